// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/picker.h"

#include <algorithm>

namespace sluice::balancer {
namespace {

// Scores within this fraction count as equal, so targets that perform alike share traffic by
// weight instead of by measurement noise.
constexpr double kLatencyTie = 0.05;

}  // namespace

Picker::Picker(const Upstream& up)
    : up_(&up), current_(up.size(), 0), excluded_(up.size(), 0), ok_(up.size(), 0) {}

Selection Picker::Pick(const RequestFacts& facts, uint64_t now_ms, int avoid) {
  const size_t n = up_->size();
  if (n == 0 || !up_->AboveThreshold())
    return {};
  const uint64_t hash = up_->algorithm() == Algorithm::kConsistentHashing ? KeyHash(facts) : 0;
  std::fill(excluded_.begin(), excluded_.end(), 0);
  bool soft = avoid >= 0 && static_cast<size_t>(avoid) < n;
  if (soft)
    excluded_[static_cast<size_t>(avoid)] = 1;
  // Each failed round excludes one target or lifts the soft exclusion, so n + 2 rounds suffice.
  for (size_t round = 0; round < n + 2; ++round) {
    const int i = Choose(hash, now_ms);
    if (i < 0) {
      if (!soft)
        return {};
      soft = false;
      excluded_[static_cast<size_t>(avoid)] = 0;
      continue;
    }
    Selection sel;
    // Admission fails only when another worker took the last half-open trial slot meanwhile.
    if (up_->Admit(static_cast<size_t>(i), now_ms, &sel))
      return sel;
    excluded_[static_cast<size_t>(i)] = 1;
  }
  return {};
}

int Picker::Choose(uint64_t hash, uint64_t now_ms) {
  switch (up_->algorithm()) {
    case Algorithm::kRoundRobin:
      return RoundRobin(now_ms);
    case Algorithm::kLeastConnections:
      return LeastConnections(now_ms);
    case Algorithm::kConsistentHashing:
      return Hashing(hash, now_ms);
    case Algorithm::kLatency:
      return Latency(now_ms);
  }
  return -1;
}

// nginx's smooth weighted round-robin: each candidate gains its weight, the richest is picked
// and pays the total. Over any window of sum(weights) picks every target gets exactly its
// weight, interleaved rather than in bursts.
int Picker::RoundRobin(uint64_t now_ms) {
  int best = -1;
  int64_t total = 0;
  for (size_t i = 0; i < current_.size(); ++i) {
    if (!Candidate(i, now_ms))
      continue;
    const int64_t w = up_->target(i).weight;
    current_[i] += w;
    total += w;
    if (best < 0 || current_[i] > current_[static_cast<size_t>(best)])
      best = static_cast<int>(i);
  }
  if (best >= 0)
    current_[static_cast<size_t>(best)] -= total;
  return best;
}

int Picker::LeastConnections(uint64_t now_ms) {
  const size_t n = up_->size();
  const size_t start = rotate_++ % n;
  int best = -1;
  int64_t best_load = 0;
  int64_t best_weight = 1;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (!Candidate(i, now_ms))
      continue;
    const int64_t load =
        std::max<int64_t>(up_->state(i).in_flight.load(std::memory_order_relaxed), 0) + 1;
    const int64_t w = up_->target(i).weight;
    // load / w < best_load / best_weight, without division.
    if (best < 0 || load * best_weight < best_load * w) {
      best = static_cast<int>(i);
      best_load = load;
      best_weight = w;
    }
  }
  return best;
}

int Picker::Hashing(uint64_t hash, uint64_t now_ms) {
  return up_->ring().Find(hash, [&](int i) { return Candidate(static_cast<size_t>(i), now_ms); });
}

int Picker::WeightedDraw(int64_t total, int skip) {
  int64_t r = absl::Uniform<int64_t>(rng_, 0, total);
  int last = -1;
  for (size_t i = 0; i < ok_.size(); ++i) {
    if (!ok_[i] || static_cast<int>(i) == skip)
      continue;
    last = static_cast<int>(i);
    r -= up_->target(i).weight;
    if (r < 0)
      return last;
  }
  return last;
}

int Picker::Latency(uint64_t now_ms) {
  int64_t total = 0;
  for (size_t i = 0; i < ok_.size(); ++i) {
    ok_[i] = Candidate(i, now_ms) ? 1 : 0;
    if (ok_[i])
      total += up_->target(i).weight;
  }
  if (total == 0)
    return -1;
  const int a = WeightedDraw(total, -1);
  const int64_t rest = total - up_->target(static_cast<size_t>(a)).weight;
  if (rest <= 0)
    return a;
  const int b = WeightedDraw(rest, a);
  if (b < 0)
    return a;
  const double tau = up_->options().latency_decay_ms;
  auto score = [&](int i) {
    const TargetState& s = up_->state(static_cast<size_t>(i));
    // A target with no sample yet costs 1 us, so in-flight counts still separate such targets.
    const double cost = std::max(s.latency.Cost(now_ms, tau), 1.0);
    return cost * (std::max(s.in_flight.load(std::memory_order_relaxed), 0) + 1);
  };
  return score(b) < score(a) * (1 - kLatencyTie) ? b : a;
}

uint64_t Picker::KeyHash(const RequestFacts& facts) {
  absl::string_view key = KeyFor(up_->hash_on(), facts);
  if (key.empty())
    key = KeyFor(up_->hash_fallback(), facts);
  if (key.empty())
    return absl::Uniform<uint64_t>(rng_);
  return StableHash64(key);
}

WorkerPickers::WorkerPickers(const Set& set) {
  pickers_.reserve(set.size());
  for (size_t i = 0; i < set.size(); ++i)
    pickers_.emplace_back(set.at(i));
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// The per-worker half of a balancer: picks a target of one upstream by its algorithm, skipping
// targets that are unhealthy, unresolved, weight 0 or behind an open breaker. Owns only
// scratch state (smooth round-robin weights, a random generator, an exclusion list) sized at
// construction, so Pick never allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/random/random.h"

#include "core/balancer/balancer.h"
#include "core/balancer/hash_key.h"

namespace sluice::balancer {

// Not thread-safe: one per worker per upstream. `up` must outlive the picker (the snapshot that
// holds the Set holds both).
class Picker {
 public:
  explicit Picker(const Upstream& up);

  // Picks a target and takes its in-flight count (and, for a half-open breaker, a trial
  // slot); every successful pick must be followed by exactly one Upstream::Report. `avoid`
  // (the target a retry just failed on) is skipped unless nothing else can serve. Returns an
  // empty selection when no target can serve (503).
  //   round-robin         smooth weighted round-robin (nginx): exact weights, no bursts
  //   least-connections   fewest in-flight (shared by all workers) per unit of weight; ties
  //                       rotate
  //   consistent-hashing  the ring owner of the hash_on key (then hash_fallback); a request
  //                       without a key goes to a random point
  //   latency             power of two choices drawn by weight; the lower peak-EWMA latency
  //                       times (in-flight + 1) wins, near ties (within 5 %) keep the first
  //                       draw so equal targets share by weight
  Selection Pick(const RequestFacts& facts, uint64_t now_ms, int avoid = -1);

  const Upstream& upstream() const { return *up_; }

 private:
  int Choose(uint64_t hash, uint64_t now_ms);
  int RoundRobin(uint64_t now_ms);
  int LeastConnections(uint64_t now_ms);
  int Hashing(uint64_t hash, uint64_t now_ms);
  int Latency(uint64_t now_ms);
  int WeightedDraw(int64_t total, int skip);
  uint64_t KeyHash(const RequestFacts& facts);

  bool Candidate(size_t i, uint64_t now_ms) const {
    return excluded_[i] == 0 && up_->Eligible(i, now_ms);
  }

  const Upstream* up_;
  std::vector<int64_t> current_;   // smooth round-robin running weights
  std::vector<uint8_t> excluded_;  // targets this pick must skip
  std::vector<uint8_t> ok_;        // eligibility computed once per latency pick
  uint32_t rotate_ = 0;
  absl::InsecureBitGen rng_;
};

// A worker's pickers for every upstream of one Set, in the Set's order. Build it when the
// worker installs a snapshot; the Set must outlive it.
class WorkerPickers {
 public:
  explicit WorkerPickers(const Set& set);

  size_t size() const { return pickers_.size(); }

  Picker& at(size_t i) { return pickers_[i]; }

 private:
  std::vector<Picker> pickers_;
};

}  // namespace sluice::balancer

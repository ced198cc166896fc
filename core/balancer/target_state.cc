// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/target_state.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sluice::balancer {

void AddressCell::Store(const net::Address* addrs, size_t n) {
  n = std::min(n, kMax);
  uint64_t words[kMax][kWords] = {};
  uint32_t lens[kMax] = {};
  for (size_t k = 0; k < n; ++k) {
    lens[k] = static_cast<uint32_t>(std::min<size_t>(addrs[k].len, sizeof(words[k])));
    std::memcpy(words[k], &addrs[k].storage, lens[k]);
  }
  absl::MutexLock lock(&write_mu_);
  uint32_t s = seq_.load(std::memory_order_relaxed);
  // Release stores for the data (not a fence, which TSan cannot follow): a reader that sees
  // any new word also sees the odd sequence number stored before it, and retries.
  seq_.store(s + 1, std::memory_order_relaxed);  // odd: readers retry
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < kWords; ++i)
      words_[k][i].store(words[k][i], std::memory_order_release);
    lens_[k].store(lens[k], std::memory_order_release);
  }
  count_.store(static_cast<uint32_t>(n), std::memory_order_release);
  seq_.store(s + 2, std::memory_order_release);
  for (auto& e : ejected_until_)
    e.store(0, std::memory_order_relaxed);  // a new answer: every address gets a chance
}

bool AddressCell::Load(net::Address* out, size_t i) const {
  uint64_t words[kWords];
  uint32_t len;
  for (;;) {
    const uint32_t s1 = seq_.load(std::memory_order_acquire);
    if (s1 == 0)
      return false;
    if (s1 & 1)
      continue;
    // Acquire loads keep the second sequence read after the data reads.
    const uint32_t n = count_.load(std::memory_order_acquire);
    const size_t k = n > 1 ? i % n : 0;
    for (size_t w = 0; w < kWords; ++w)
      words[w] = words_[k][w].load(std::memory_order_acquire);
    len = lens_[k].load(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == s1)
      break;
  }
  *out = net::Address();
  std::memcpy(&out->storage, words, len);
  out->len = len;
  return true;
}

std::vector<net::Address> AddressCell::LoadAll() const {
  std::vector<net::Address> all;
  for (size_t k = 0, n = count(); k < n; ++k) {
    net::Address a;
    if (Load(&a, k))
      all.push_back(a);
  }
  return all;
}

void PeakEwma::Observe(double sample_us, uint64_t now_ms, double tau_ms) {
  if (sample_us < 0)
    sample_us = 0;
  const uint64_t stamp = stamp_ms_.load(std::memory_order_relaxed);
  const double dt = now_ms > stamp ? static_cast<double>(now_ms - stamp) : 0.0;
  const double w = std::exp(-dt / tau_ms);
  uint64_t bits = bits_.load(std::memory_order_relaxed);
  for (;;) {
    double old;
    std::memcpy(&old, &bits, sizeof(old));
    double next;
    if (old == 0 || sample_us > old) {
      next = sample_us;  // first sample, or a peak: take it at once
    } else {
      next = old * w + sample_us * (1 - w);
    }
    uint64_t next_bits;
    std::memcpy(&next_bits, &next, sizeof(next_bits));
    if (bits_.compare_exchange_weak(bits, next_bits, std::memory_order_relaxed))
      break;
  }
  if (now_ms > stamp)
    stamp_ms_.store(now_ms, std::memory_order_relaxed);
}

double PeakEwma::Cost(uint64_t now_ms, double tau_ms) const {
  const uint64_t bits = bits_.load(std::memory_order_relaxed);
  double v;
  std::memcpy(&v, &bits, sizeof(v));
  const uint64_t stamp = stamp_ms_.load(std::memory_order_relaxed);
  if (v == 0 || now_ms <= stamp)
    return v;
  return v * std::exp(-static_cast<double>(now_ms - stamp) / tau_ms);
}

}  // namespace sluice::balancer

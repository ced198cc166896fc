// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace sluice::filters::rate_limiting {
namespace {

int64_t CeilSeconds(int64_t us) { return std::max<int64_t>(1, (us + 999'999) / 1'000'000); }

}  // namespace

Bucket MakeBucket(double rate, int64_t burst) {
  Bucket b;
  b.burst = burst;
  b.interval_us = std::max<int64_t>(1, std::llround(1e6 / rate));
  b.capacity_us = b.interval_us * burst;
  b.epoch_us = std::max(b.interval_us, b.capacity_us / 8);
  return b;
}

std::string EpochKey(std::string_view key_prefix, int64_t epoch) {
  std::string key(key_prefix);
  key += ':';
  key += std::to_string(epoch);
  return key;
}

TokenResult TakeToken(const Bucket& b, std::string_view key_prefix, int64_t now_us, CounterAdd add,
                      void* ctx) {
  TokenResult r;
  const int64_t epoch = now_us / b.epoch_us;
  const int64_t epoch_start = epoch * b.epoch_us;
  // Alive through this epoch and the next (which seeds from it), plus the bucket's depth.
  const uint64_t ttl_ms = static_cast<uint64_t>((2 * b.epoch_us + b.capacity_us) / 1000 + 1000);
  const std::string key = EpochKey(key_prefix, epoch);
  int64_t v = 0;
  if (!add(ctx, key, b.interval_us, ttl_ms, &v))
    return r;
  int64_t before;  // the TAT this request found
  if (v < epoch_start) {
    // Not seeded yet (seeded values are absolute times inside or after this epoch). Only the add
    // that created the counter saw exactly T, so exactly one request seeds it.
    int64_t prev = 0;
    if (!add(ctx, EpochKey(key_prefix, epoch - 1), 0, ttl_ms, &prev))
      return r;
    if (prev < epoch_start - b.epoch_us)
      prev = 0;  // the previous epoch was never seeded: no debt to carry
    const int64_t base = std::max(prev, now_us);
    if (v == b.interval_us && !add(ctx, key, base, ttl_ms, nullptr))
      return r;
    before = base + v - b.interval_us;
  } else {
    before = v - b.interval_us;
  }
  r.ok = true;
  const int64_t tat = std::max(before, now_us) + b.interval_us;
  if (tat - now_us <= b.capacity_us) {
    r.allowed = true;
    r.remaining = (b.capacity_us - (tat - now_us)) / b.interval_us;
    r.reset_s = CeilSeconds(tat - now_us);
    return r;
  }
  add(ctx, key, -b.interval_us, ttl_ms, nullptr);  // a refused request takes no token
  r.allowed = false;
  r.remaining = 0;
  r.reset_s = CeilSeconds(before - now_us);
  r.retry_after_s = CeilSeconds(tat - b.capacity_us - now_us);
  return r;
}

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
// sluice's token bucket (beyond Kong) on counters that only support an atomic add with expiry, as
// shared_counter_add offers. It is GCRA (the virtual-scheduling form of a token bucket): one
// counter holds the bucket's "theoretical arrival time" (TAT) in Unix microseconds; a request
// adds one emission interval T = 1/rate and is allowed when the new TAT is at most
// burst * T ahead of now. A refused request takes its T back.
//
// An add-only counter cannot do GCRA's max(TAT, now) when a bucket refills while idle, so the
// counter is keyed by an epoch of length E = max(T, burst * T / 8): the request that creates an
// epoch's counter seeds it once with max(previous epoch's TAT, now), which carries any debt over
// and re-caps the bucket. Inside an epoch an idle spell is not re-capped, so after one the bucket
// may hand out at most E / T = max(1, burst / 8) tokens beyond `burst`; otherwise it is exact
// across workers, since every decision rests on the value one atomic add returned. Pure: the
// counter store is passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::filters::rate_limiting {

struct Bucket {
  int64_t interval_us = 0;  // T
  int64_t capacity_us = 0;  // burst * T
  int64_t epoch_us = 0;     // E
  int64_t burst = 0;
};

Bucket MakeBucket(double rate, int64_t burst);

// Adds `delta` to counter `key`, creating it at 0 with a lifetime of `ttl_ms` when absent or
// expired; stores the new value in *out when out is not null. False when the store failed.
using CounterAdd = bool (*)(void* ctx, std::string_view key, int64_t delta, uint64_t ttl_ms,
                            int64_t* out);

struct TokenResult {
  bool ok = false;  // false: the counter store failed (nothing was decided)
  bool allowed = false;
  int64_t remaining = 0;      // whole tokens left after this request
  int64_t reset_s = 1;        // seconds until the bucket is full again (at least 1)
  int64_t retry_after_s = 0;  // refused: seconds until the next token (at least 1)
};

// Takes one token from the bucket whose counters start with `key_prefix`, at `now_us`.
TokenResult TakeToken(const Bucket& bucket, std::string_view key_prefix, int64_t now_us,
                      CounterAdd add, void* ctx);

// The counter key of one epoch: "<prefix>:<epoch index>".
std::string EpochKey(std::string_view key_prefix, int64_t epoch);

}  // namespace sluice::filters::rate_limiting

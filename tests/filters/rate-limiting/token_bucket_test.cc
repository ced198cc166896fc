// SPDX-License-Identifier: Apache-2.0
// rate-limiting token bucket: GCRA on add-only counters (an in-memory store stands in for
// shared_counter_add): burst, refill, Retry-After, carry-over between epochs.
#include "rate-limiting/token_bucket.h"

#include <cstdint>
#include <map>
#include <string>

#include <catch2/catch.hpp>

namespace sluice::filters::rate_limiting {
namespace {

struct Store {
  std::map<std::string, int64_t, std::less<>> values;
  bool fail = false;

  static bool Add(void* ctx, std::string_view key, int64_t delta, uint64_t, int64_t* out) {
    auto* s = static_cast<Store*>(ctx);
    if (s->fail)
      return false;
    int64_t& v = s->values[std::string(key)];
    v += delta;
    if (out != nullptr)
      *out = v;
    return true;
  }
};

constexpr int64_t kT0 = 1'700'000'000'000'000;  // a whole second, in Unix microseconds
constexpr int64_t kSecond = 1'000'000;

TokenResult Take(Store& s, const Bucket& b, int64_t now) {
  return TakeToken(b, "rl:tb:k", now, &Store::Add, &s);
}

TEST_CASE("rate-limiting token bucket: burst, then one token per interval",
          "[filters][rate-limiting]") {
  Store s;
  const Bucket b = MakeBucket(1.0, 3);
  CHECK(b.interval_us == kSecond);
  CHECK(b.capacity_us == 3 * kSecond);
  for (int64_t left : {2, 1, 0}) {
    TokenResult r = Take(s, b, kT0);
    REQUIRE(r.ok);
    CHECK(r.allowed);
    CHECK(r.remaining == left);
  }
  TokenResult refused = Take(s, b, kT0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_s == 1);
  CHECK(refused.reset_s == 3);  // three tokens short of full

  // One second later (a new epoch, seeded with the carried-over debt): exactly one token.
  TokenResult next = Take(s, b, kT0 + kSecond);
  CHECK(next.allowed);
  CHECK(next.remaining == 0);
  TokenResult again = Take(s, b, kT0 + kSecond);
  CHECK_FALSE(again.allowed);
  CHECK(again.retry_after_s == 1);
  // Half a second later still nothing; the wait left rounds up to a whole second.
  TokenResult half = Take(s, b, kT0 + kSecond + kSecond / 2);
  CHECK_FALSE(half.allowed);
  CHECK(half.retry_after_s == 1);
}

TEST_CASE("rate-limiting token bucket: an idle bucket refills to burst, not beyond",
          "[filters][rate-limiting]") {
  Store s;
  const Bucket b = MakeBucket(1.0, 3);
  REQUIRE(Take(s, b, kT0).allowed);
  const int64_t later = kT0 + 100 * kSecond;
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    allowed += Take(s, b, later).allowed ? 1 : 0;
  CHECK(allowed == 3);
}

TEST_CASE("rate-limiting token bucket: a steady stream at twice the rate gets half through",
          "[filters][rate-limiting]") {
  Store s;
  const Bucket b = MakeBucket(10.0, 1);  // T = 100 ms
  int allowed = 0;
  for (int i = 0; i < 20; ++i)
    allowed += Take(s, b, kT0 + i * 50'000).allowed ? 1 : 0;
  CHECK(allowed == 10);
}

TEST_CASE("rate-limiting token bucket: slow rates give long Retry-After",
          "[filters][rate-limiting]") {
  Store s;
  const Bucket b = MakeBucket(0.5, 1);  // a token every 2 s
  REQUIRE(Take(s, b, kT0).allowed);
  TokenResult r = Take(s, b, kT0 + 1);
  CHECK_FALSE(r.allowed);
  CHECK(r.retry_after_s == 2);
  CHECK(Take(s, b, kT0 + 2 * kSecond).allowed);
}

TEST_CASE(
    "rate-limiting token bucket: refused requests take no token, a failed store decides "
    "nothing",
    "[filters][rate-limiting]") {
  Store s;
  const Bucket b = MakeBucket(1.0, 1);
  REQUIRE(Take(s, b, kT0).allowed);
  for (int i = 0; i < 5; ++i)
    REQUIRE_FALSE(Take(s, b, kT0).allowed);
  CHECK(Take(s, b, kT0 + kSecond).allowed);  // the refusals did not push the bucket back
  s.fail = true;
  CHECK_FALSE(Take(s, b, kT0 + 5 * kSecond).ok);
}

}  // namespace
}  // namespace sluice::filters::rate_limiting

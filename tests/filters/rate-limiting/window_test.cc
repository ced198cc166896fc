// SPDX-License-Identifier: Apache-2.0
// rate-limiting windows: UTC calendar alignment (month and year boundaries included), Kong's
// counter keys, and the exact headers on allowed and refused requests.
#include "rate-limiting/window.h"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::filters::rate_limiting {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields HeadersOf(const Decision& d) {
  Fields out;
  for (int i = 0; i < d.header_count; ++i)
    out.emplace_back(std::string(d.headers[i].name), std::string(d.headers[i].view()));
  return out;
}

Usages Use(std::initializer_list<std::tuple<Period, double, double>> items) {
  Usages u{};
  for (const auto& [p, limit, used] : items)
    u[static_cast<int>(p)] = {true, limit, used};
  return u;
}

constexpr int64_t kLeapDayLast = 1709251199500;  // 2024-02-29T23:59:59.500Z
constexpr int64_t kNewYearEve = 1704067199999;   // 2023-12-31T23:59:59.999Z
constexpr int64_t kJuly = 1719835220250;         // 2024-07-01T12:00:20.250Z

TEST_CASE("rate-limiting window: starts on UTC calendar boundaries", "[filters][rate-limiting]") {
  CHECK(WindowStartMs(Period::kSecond, kLeapDayLast) == 1709251199000);
  CHECK(WindowStartMs(Period::kMinute, kLeapDayLast) == 1709251140000);
  CHECK(WindowStartMs(Period::kHour, kLeapDayLast) == 1709247600000);
  CHECK(WindowStartMs(Period::kDay, kLeapDayLast) == 1709164800000);
  CHECK(WindowStartMs(Period::kMonth, kLeapDayLast) == 1706745600000);  // 2024-02-01
  CHECK(WindowStartMs(Period::kYear, kLeapDayLast) == 1704067200000);   // 2024-01-01
  CHECK(WindowStartMs(Period::kMonth, kNewYearEve) == 1701388800000);   // 2023-12-01
  CHECK(WindowStartMs(Period::kYear, kNewYearEve) == 1672531200000);    // 2023-01-01
  // One millisecond later everything rolls over together.
  for (Period p : {Period::kSecond, Period::kMinute, Period::kHour, Period::kDay, Period::kMonth,
                   Period::kYear}) {
    CHECK(WindowStartMs(p, kNewYearEve + 1) == 1704067200000);
    CHECK(WindowStartMs(p, 1704067200000) == 1704067200000);  // a boundary starts its window
  }
}

TEST_CASE("rate-limiting window: ends are real calendar ends", "[filters][rate-limiting]") {
  CHECK(WindowEndMs(Period::kMonth, kLeapDayLast) == 1709251200000);  // 2024-03-01 (29 days)
  CHECK(WindowEndMs(Period::kYear, kLeapDayLast) == 1735689600000);   // 2025-01-01
  CHECK(WindowEndMs(Period::kMonth, kNewYearEve) == 1704067200000);   // December -> January
  CHECK(WindowEndMs(Period::kYear, kNewYearEve) == 1704067200000);
  CHECK(WindowEndMs(Period::kMinute, kJuly) == 1719835260000);
  CHECK(WindowEndMs(Period::kSecond, kJuly) == 1719835221000);
}

TEST_CASE("rate-limiting window: reset uses Kong's fixed lengths", "[filters][rate-limiting]") {
  CHECK(KongPeriodSeconds(Period::kMonth) == 2592000);
  CHECK(KongPeriodSeconds(Period::kYear) == 31536000);
  CHECK(ResetSeconds(Period::kSecond, kJuly) == 1);
  CHECK(ResetSeconds(Period::kMinute, kJuly) == 40);
  CHECK(ResetSeconds(Period::kHour, kJuly) == 3580);
  CHECK(ResetSeconds(Period::kMonth, kLeapDayLast) == 86401);  // 30 days minus 28d 23:59:59
  // Past day 30 of a 31-day month the fixed length is used up: Kong answers 1.
  CHECK(ResetSeconds(Period::kMonth, kNewYearEve) == 1);
}

TEST_CASE("rate-limiting window: Kong's counter keys", "[filters][rate-limiting]") {
  CHECK(CounterKey("r1", "s1", "203.0.113.9", 1719835200000, Period::kMinute) ==
        "ratelimit:r1:s1:203.0.113.9:1719835200000:minute");
  CHECK(CounterKey("", "", "c", 0, Period::kYear) ==
        "ratelimit:00000000-0000-0000-0000-000000000000:00000000-0000-0000-0000-000000000000:c:"
        "0:year");
}

TEST_CASE("rate-limiting decision: allowed request headers", "[filters][rate-limiting]") {
  Decision d = Decide(Use({{Period::kMinute, 5, 2}, {Period::kHour, 10, 2}}), kJuly, false);
  CHECK(d.allowed);
  CHECK(HeadersOf(d) == Fields{{"X-RateLimit-Limit-Minute", "5"},
                               {"X-RateLimit-Remaining-Minute", "2"},
                               {"X-RateLimit-Limit-Hour", "10"},
                               {"X-RateLimit-Remaining-Hour", "7"},
                               {"RateLimit-Limit", "5"},
                               {"RateLimit-Remaining", "2"},
                               {"RateLimit-Reset", "40"}});
  // The last allowed request of a window shows 0 remaining.
  d = Decide(Use({{Period::kSecond, 3, 2}}), kJuly, false);
  CHECK(d.allowed);
  CHECK(HeadersOf(d) == Fields{{"X-RateLimit-Limit-Second", "3"},
                               {"X-RateLimit-Remaining-Second", "0"},
                               {"RateLimit-Limit", "3"},
                               {"RateLimit-Remaining", "0"},
                               {"RateLimit-Reset", "1"}});
}

TEST_CASE("rate-limiting decision: refused request headers and Retry-After",
          "[filters][rate-limiting]") {
  Decision d = Decide(Use({{Period::kMinute, 5, 5}, {Period::kHour, 10, 5}}), kJuly, false);
  CHECK_FALSE(d.allowed);
  // Only the exceeded period loses the -1; the others show what is left.
  CHECK(HeadersOf(d) == Fields{{"X-RateLimit-Limit-Minute", "5"},
                               {"X-RateLimit-Remaining-Minute", "0"},
                               {"X-RateLimit-Limit-Hour", "10"},
                               {"X-RateLimit-Remaining-Hour", "5"},
                               {"RateLimit-Limit", "5"},
                               {"RateLimit-Remaining", "0"},
                               {"RateLimit-Reset", "40"},
                               {"Retry-After", "40"}});
  // Counted past the limit (redis counts refused requests): still 0, never negative.
  d = Decide(Use({{Period::kMinute, 5, 9}}), kJuly, false);
  CHECK_FALSE(d.allowed);
  CHECK(HeadersOf(d)[1] ==
        std::pair<std::string, std::string>{"X-RateLimit-Remaining-Minute", "0"});
}

TEST_CASE("rate-limiting decision: ties go to the longer window", "[filters][rate-limiting]") {
  Decision d = Decide(Use({{Period::kMinute, 5, 4}, {Period::kHour, 5, 4}}), kJuly, false);
  CHECK(d.allowed);
  Fields h = HeadersOf(d);
  CHECK(h[4] == std::pair<std::string, std::string>{"RateLimit-Limit", "5"});
  CHECK(h[6] == std::pair<std::string, std::string>{"RateLimit-Reset", "3580"});
  d = Decide(Use({{Period::kMinute, 5, 5}, {Period::kHour, 5, 5}}), kJuly, false);
  CHECK_FALSE(d.allowed);
  CHECK(HeadersOf(d).back() == std::pair<std::string, std::string>{"Retry-After", "3580"});
}

TEST_CASE("rate-limiting decision: hidden headers and fractional limits",
          "[filters][rate-limiting]") {
  CHECK(Decide(Use({{Period::kMinute, 5, 0}}), kJuly, true).header_count == 0);
  Decision refused = Decide(Use({{Period::kMinute, 5, 5}}), kJuly, true);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.header_count == 0);  // Kong sends no Retry-After when headers are hidden
  Decision d = Decide(Use({{Period::kMinute, 2.5, 1}}), kJuly, false);
  CHECK(d.allowed);
  CHECK(HeadersOf(d)[0].second == "2.5");
  CHECK(HeadersOf(d)[1].second == "0.5");
}

TEST_CASE("rate-limiting reply: Kong's error body", "[filters][rate-limiting]") {
  CHECK(ErrorBody("API rate limit exceeded", "4f2a") ==
        R"({"message":"API rate limit exceeded","request_id":"4f2a"})");
  CHECK(ErrorBody("say \"no\"\n", "") == R"({"message":"say \"no\"\n"})");
}

}  // namespace
}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
// Fixed-window arithmetic as Kong does it (reference/kong.md §5.3-5.5), with no SDK calls: window
// starts on UTC calendar boundaries, Kong's counter keys, the allow/deny decision and the exact
// response headers. Pure functions, unit-tested on their own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rate-limiting/schema.h"

namespace sluice::filters::rate_limiting {

// Kong's window lengths in seconds (month 30 days, year 365 days), used for RateLimit-Reset.
int64_t KongPeriodSeconds(Period p);

// Start of the UTC calendar window holding `now_ms` (Unix ms): the second, minute, hour, day,
// first of the month or January 1st, in Unix ms.
int64_t WindowStartMs(Period p, int64_t now_ms);

// Start of the next window (the real calendar end: months have 28-31 days).
int64_t WindowEndMs(Period p, int64_t now_ms);

// Kong's RateLimit-Reset for period p: max(1, length - whole seconds elapsed in the window).
int64_t ResetSeconds(Period p, int64_t now_ms);

// "ratelimit:<route_id>:<service_id>:<identifier>:<window_start_ms>:<period>" (kong.md §5.5);
// empty ids are written as Kong's null UUID.
std::string CounterKey(std::string_view route_id, std::string_view service_id,
                       std::string_view identifier, int64_t window_start_ms, Period p);

inline constexpr std::string_view kNullId = "00000000-0000-0000-0000-000000000000";

// Usage of one period: its limit and the count before this request.
struct PeriodUsage {
  bool limited = false;
  double limit = 0;
  double used_before = 0;
};

using Usages = std::array<PeriodUsage, kPeriodCount>;

// A header to set; `name` is static text, `value` a short number.
struct HeaderValue {
  std::string_view name;
  char value[32] = {};
  uint8_t len = 0;

  std::string_view view() const { return {value, len}; }
};

// What the filter answers: allowed or not, and the headers Kong sets (on the response when
// allowed, on the 429 otherwise; none when hidden). At most 2 per period + 4.
struct Decision {
  bool allowed = true;
  std::array<HeaderValue, 2 * kPeriodCount + 4> headers;
  int header_count = 0;

  void Add(std::string_view name, std::string_view value);
  void Add(std::string_view name, double value);
};

// Kong's decision and headers for `usages` at `now_ms` (handler.lua): rejected when any
// period's remaining (limit - used_before) is <= 0.
Decision Decide(const Usages& usages, int64_t now_ms, bool hide_client_headers);

// Formats a number as Lua prints it: integral values without a fraction, else %.14g.
int FormatNumber(double v, char* out, size_t size);

// The body of the limit reply: {"message":"...","request_id":"..."} (request_id when known).
std::string ErrorBody(std::string_view message, std::string_view request_id);

}  // namespace sluice::filters::rate_limiting

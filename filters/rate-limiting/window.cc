// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/window.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace sluice::filters::rate_limiting {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

int64_t KongPeriodSeconds(Period p) {
  static constexpr int64_t kSeconds[kPeriodCount] = {1, 60, 3600, 86400, 2592000, 31536000};
  return kSeconds[static_cast<int>(p)];
}

int64_t WindowStartMs(Period p, int64_t now_ms) {
  switch (p) {
    case Period::kSecond:
    case Period::kMinute:
    case Period::kHour:
    case Period::kDay: {
      const int64_t len = KongPeriodSeconds(p) * 1000;
      return FloorDiv(now_ms, len) * len;
    }
    case Period::kMonth:
    case Period::kYear: {
      Civil c = CivilFromDays(FloorDiv(now_ms, kDayMs));
      return DaysFromCivil(c.y, p == Period::kYear ? 1 : c.m, 1) * kDayMs;
    }
  }
  return now_ms;
}

int64_t WindowEndMs(Period p, int64_t now_ms) {
  switch (p) {
    case Period::kMonth: {
      Civil c = CivilFromDays(FloorDiv(now_ms, kDayMs));
      return (c.m == 12 ? DaysFromCivil(c.y + 1, 1, 1) : DaysFromCivil(c.y, c.m + 1, 1)) * kDayMs;
    }
    case Period::kYear: {
      Civil c = CivilFromDays(FloorDiv(now_ms, kDayMs));
      return DaysFromCivil(c.y + 1, 1, 1) * kDayMs;
    }
    default:
      return WindowStartMs(p, now_ms) + KongPeriodSeconds(p) * 1000;
  }
}

int64_t ResetSeconds(Period p, int64_t now_ms) {
  const int64_t elapsed = FloorDiv(now_ms - WindowStartMs(p, now_ms), 1000);
  return std::max<int64_t>(1, KongPeriodSeconds(p) - elapsed);
}

std::string CounterKey(std::string_view route_id, std::string_view service_id,
                       std::string_view identifier, int64_t window_start_ms, Period p) {
  std::string key = "ratelimit:";
  key += route_id.empty() ? kNullId : route_id;
  key += ':';
  key += service_id.empty() ? kNullId : service_id;
  key += ':';
  key += identifier;
  key += ':';
  key += std::to_string(window_start_ms);
  key += ':';
  key += PeriodName(p);
  return key;
}

int FormatNumber(double v, char* out, size_t size) {
  int n = (std::floor(v) == v && std::fabs(v) < 1e15)
              ? std::snprintf(out, size, "%lld", static_cast<long long>(v))
              : std::snprintf(out, size, "%.14g", v);
  return std::clamp(n, 0, static_cast<int>(size) - 1);
}

void Decision::Add(std::string_view name, std::string_view value) {
  HeaderValue& h = headers[header_count++];
  h.name = name;
  h.len = static_cast<uint8_t>(std::min(value.size(), sizeof h.value));
  std::memcpy(h.value, value.data(), h.len);
}

void Decision::Add(std::string_view name, double value) {
  char buf[32];
  int n = FormatNumber(value, buf, sizeof buf);
  Add(name, std::string_view(buf, static_cast<size_t>(n)));
}

Decision Decide(const Usages& usages, int64_t now_ms, bool hide_client_headers) {
  static constexpr std::string_view kLimit[kPeriodCount] = {
      "X-RateLimit-Limit-Second", "X-RateLimit-Limit-Minute", "X-RateLimit-Limit-Hour",
      "X-RateLimit-Limit-Day",    "X-RateLimit-Limit-Month",  "X-RateLimit-Limit-Year"};
  static constexpr std::string_view kRemaining[kPeriodCount] = {
      "X-RateLimit-Remaining-Second", "X-RateLimit-Remaining-Minute", "X-RateLimit-Remaining-Hour",
      "X-RateLimit-Remaining-Day",    "X-RateLimit-Remaining-Month",  "X-RateLimit-Remaining-Year"};
  Decision d;
  // Kong stops on the last exceeded period it iterates; only that one shows remaining - 1
  // clamped to 0, which is 0 for any exceeded period, so the choice does not show.
  int stop = -1;
  for (int i = 0; i < kPeriodCount; ++i) {
    const PeriodUsage& u = usages[i];
    if (u.limited && u.limit - u.used_before <= 0)
      stop = i;
  }
  d.allowed = stop < 0;
  // Kong computes the reset only while building the client headers, so a hidden 429 carries no
  // Retry-After either.
  if (hide_client_headers)
    return d;

  double best_limit = 0, best_remaining = 0;
  int best = -1;
  int64_t reset = 1;
  for (int i = 0; i < kPeriodCount; ++i) {
    const PeriodUsage& u = usages[i];
    if (!u.limited)
      continue;
    double remaining = u.limit - u.used_before;
    if (stop < 0 || stop == i)
      remaining -= 1;
    remaining = std::max(0.0, remaining);
    // Lowest remaining wins; a tie goes to the longer window (later in our order).
    if (best < 0 || remaining <= best_remaining) {
      best = i;
      best_limit = u.limit;
      best_remaining = remaining;
      reset = ResetSeconds(static_cast<Period>(i), now_ms);
    }
    d.Add(kLimit[i], u.limit);
    d.Add(kRemaining[i], remaining);
  }
  if (best >= 0) {
    d.Add("RateLimit-Limit", best_limit);
    d.Add("RateLimit-Remaining", best_remaining);
    d.Add("RateLimit-Reset", static_cast<double>(reset));
  }
  if (!d.allowed)
    d.Add("Retry-After", static_cast<double>(reset));
  return d;
}

std::string ErrorBody(std::string_view message, std::string_view request_id) {
  std::string out = "{\"message\":\"";
  for (char ch : message) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  if (!request_id.empty()) {
    out += ",\"request_id\":\"";
    out += request_id;  // the host's id: hex digits
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace sluice::filters::rate_limiting

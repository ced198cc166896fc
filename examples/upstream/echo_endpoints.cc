// SPDX-License-Identifier: Apache-2.0
// Target parsing and the pure helpers of sluice-echo.
#include "examples/upstream/echo_endpoints.h"

#include <array>
#include <optional>

namespace sluice::echo {
namespace {

// Parses a run of 1 to 18 decimal digits (no sign, no spaces); anything else is nullopt.
std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 18) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// Finds `name=VALUE` among the '&'-separated arguments of `query`.
std::optional<std::string_view> QueryArg(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view arg = query.substr(0, amp);
    if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
      return arg.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

struct Numbered {
  std::string_view prefix;
  Endpoint endpoint;
  uint64_t min;
  uint64_t max;
};

constexpr std::array<Numbered, 6> kNumbered = {{
    {"/status/", Endpoint::kStatus, 200, 599},
    {"/delay/", Endpoint::kDelay, 0, kMaxDelayMs},
    {"/headers-delay/", Endpoint::kHeadersDelay, 0, kMaxDelayMs},
    {"/bytes/", Endpoint::kBytes, 0, kMaxBytes},
    {"/chunked/", Endpoint::kChunked, 0, kMaxBytes},
    {"/close/", Endpoint::kClose, 0, kMaxBytes},
}};

struct Fixed {
  std::string_view path;
  Endpoint endpoint;
};

constexpr std::array<Fixed, 7> kFixed = {{
    {"/bench", Endpoint::kBench},
    {"/__stats", Endpoint::kStats},
    {"/reset-mid", Endpoint::kResetMid},
    {"/reset-now", Endpoint::kResetNow},
    {"/garbage", Endpoint::kGarbage},
    {"/slow-read", Endpoint::kSlowRead},
    {"/close-after", Endpoint::kCloseAfter},
}};

}  // namespace

Target ParseTarget(std::string_view raw_target) {
  Target t;
  const size_t q = raw_target.find('?');
  t.path = raw_target.substr(0, q);
  t.query = q == std::string_view::npos ? std::string_view() : raw_target.substr(q + 1);
  for (const Fixed& f : kFixed) {
    if (t.path == f.path) {
      t.endpoint = f.endpoint;
      return t;
    }
  }
  for (const Numbered& n : kNumbered) {
    if (t.path.substr(0, n.prefix.size()) == n.prefix) {
      const auto value = ParseNumber(t.path.substr(n.prefix.size()));
      if (value && *value >= n.min && *value <= n.max) {
        t.endpoint = n.endpoint;
        t.number = *value;
      } else {
        t.endpoint = Endpoint::kBadArgument;
      }
      return t;
    }
  }
  if (const auto sleep = QueryArg(t.query, "sleep")) {
    const auto ms = ParseNumber(*sleep);
    if (!ms || *ms > kMaxDelayMs) {
      t.endpoint = Endpoint::kBadArgument;
      return t;
    }
    t.sleep_ms = *ms;
  }
  return t;
}

std::string Fnv1a64::Hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  uint64_t h = hash_;
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[h & 0xf];
    h >>= 4;
  }
  return out;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      out.append("\\u00");
      out.push_back(kDigits[u >> 4]);
      out.push_back(kDigits[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 418:
      return "I'm a teapot";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

const char* PatternAt(uint64_t offset) {
  // One period of slack lets a piece start at any of the 26 phases.
  static const std::array<char, kPieceSize + 26> kPattern = [] {
    std::array<char, kPieceSize + 26> p{};
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] = static_cast<char>('a' + i % 26);
    }
    return p;
  }();
  return kPattern.data() + offset % 26;
}

}  // namespace sluice::echo

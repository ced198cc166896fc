// SPDX-License-Identifier: Apache-2.0
// Host header splitting and route host pattern parsing.
#include "core/router/host.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::router {
namespace {

// Parses a decimal port in 1..65535; digits only (no sign, no spaces).
bool ParsePort(absl::string_view s, int* port) {
  if (s.empty() || s.size() > 5) {
    return false;
  }
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) {
    return false;
  }
  *port = v;
  return true;
}

}  // namespace

void SplitHostPort(absl::string_view value, absl::string_view* name, int* port) {
  *name = value;
  *port = 0;
  size_t colon;
  if (!value.empty() && value.front() == '[') {
    // IPv6 literal: only a ':' right after the closing bracket starts a port.
    size_t close = value.find(']');
    if (close == absl::string_view::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return;
    }
    colon = close + 1;
  } else {
    colon = value.rfind(':');
    if (colon == absl::string_view::npos) {
      return;
    }
  }
  int p = 0;
  if (!ParsePort(value.substr(colon + 1), &p)) {
    return;
  }
  *name = value.substr(0, colon);
  *port = p;
}

absl::StatusOr<HostPattern> ParseHostPattern(absl::string_view host) {
  HostPattern out;
  absl::string_view name = host;
  if (size_t colon = host.rfind(':');
      colon != absl::string_view::npos && host.find(']') == absl::string_view::npos) {
    if (!ParsePort(host.substr(colon + 1), &out.port)) {
      return absl::InvalidArgumentError(absl::StrCat("host '", host, "': invalid port"));
    }
    name = host.substr(0, colon);
  } else if (!host.empty() && host.front() == '[') {
    absl::string_view ignored;
    SplitHostPort(host, &ignored, &out.port);
    name = ignored;
  }
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("host '", host, "': empty"));
  }

  size_t stars = std::count(name.begin(), name.end(), '*');
  if (stars == 0) {
    out.kind = HostPattern::Kind::kExact;
    out.key = absl::AsciiStrToLower(name);
  } else if (stars == 1 && name.size() > 2 && name.substr(0, 2) == "*.") {
    out.kind = HostPattern::Kind::kSuffix;
    out.key = absl::AsciiStrToLower(name.substr(1));
  } else if (stars == 1 && name.size() > 2 && name.substr(name.size() - 2) == ".*") {
    out.kind = HostPattern::Kind::kPrefix;
    out.key = absl::AsciiStrToLower(name.substr(0, name.size() - 1));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "host '", host, "': a wildcard must be the whole leftmost or rightmost label"));
  }
  return out;
}

}  // namespace sluice::router

// SPDX-License-Identifier: Apache-2.0
// Host matching pieces of the router: splitting "name:port" and parsing a route's `hosts`
// entries (exact, `*.example.com`, `example.*`, each with an optional `:port`).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::router {

// Splits a Host header value into name and port: "example.com:8080", "example.com",
// "[::1]:8080". `*port` is 0 when there is no port. A port that is not a decimal number in
// 1..65535 is not split off (the whole value becomes the name), as Kong's split_host_port does.
void SplitHostPort(absl::string_view value, absl::string_view* name, int* port);

// One entry of Route::hosts, compiled. Keys are lower-case: hosts compare case-insensitively.
struct HostPattern {
  enum class Kind { kExact, kSuffix, kPrefix };
  Kind kind = Kind::kExact;
  // kExact: the name ("api.example.com"); kSuffix: the suffix with its dot (".example.com" for
  // "*.example.com"); kPrefix: the prefix with its dot ("example." for "example.*").
  std::string key;
  int port = 0;  // 0: any port
};

// Parses one `hosts` entry. Fails on an empty name, a bad port, or a '*' anywhere but a whole
// leftmost or rightmost label.
absl::StatusOr<HostPattern> ParseHostPattern(absl::string_view host);

}  // namespace sluice::router

// SPDX-License-Identifier: Apache-2.0
// Value checks of Kong's schema typedefs (names, tags, hosts, paths, header and cookie names),
// the service `url` shorthand and the target "host:port" form. Each check returns Kong's error
// text, or nullopt when the value is fine. Internal to core/config.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sluice::config::internal {

// Kong's utils.normalize_ip(): a hostname, IPv4 or IPv6 address with an optional port.
struct HostPort {
  enum class Type { kName, kIpv4, kIpv6 };
  Type type = Type::kName;
  std::string host;  // IPv6 without brackets
  std::optional<int> port;
};

// Parses `address` as normalize_ip() does. On failure returns false and sets `error` to Kong's
// text ("invalid port number", "invalid hostname: x", "invalid ipv4 address: x",
// "invalid ipv6 address: x").
bool NormalizeIp(absl::string_view address, HostPort* out, std::string* error);

// typedefs.utf8_name (service/route names, plugin instance_name).
std::optional<std::string> CheckUtf8Name(absl::string_view name);

// typedefs.tag.
std::optional<std::string> CheckTag(absl::string_view tag);

// typedefs.host: a hostname or IP without a port (service host).
std::optional<std::string> CheckHost(absl::string_view host);

// typedefs.host_with_optional_port (upstream host_header).
std::optional<std::string> CheckHostWithOptionalPort(absl::string_view host);

// typedefs.sni: a hostname, not an IP, without a port.
std::optional<std::string> CheckSni(absl::string_view sni);

// typedefs.hosts element: at most one '*', as the leftmost or rightmost label, optional port.
std::optional<std::string> CheckRouteHost(absl::string_view host);

// typedefs.path (service path, healthcheck http_path, hash_on_cookie_path).
std::optional<std::string> CheckPath(absl::string_view path);

// The percent-encoding part of typedefs.path: every '%' starts a %XX triplet.
std::optional<std::string> CheckPercentEncoding(absl::string_view path);

// typedefs.header_name.
std::optional<std::string> CheckHeaderName(absl::string_view name);

// utils.validate_cookie_name (an RFC 7230 token).
std::optional<std::string> CheckCookieName(absl::string_view name);

// The service `url` shorthand split into its parts.
struct ParsedUrl {
  std::optional<std::string> scheme;  // absent for "//host/path"
  std::string host;                   // IPv6 without brackets
  std::optional<int> port;
  std::optional<std::string> path;
};

// Parses `scheme://host[:port][/path]` (or `//host...`). Credentials, a query string and a
// fragment are rejected rather than silently dropped as Kong does.
bool ParseUrl(absl::string_view url, ParsedUrl* out, std::string* error);

}  // namespace sluice::config::internal

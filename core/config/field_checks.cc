// SPDX-License-Identifier: Apache-2.0
// Value checks of Kong's schema typedefs (see field_checks.h). Messages follow
// kong/db/schema/typedefs.lua and kong/tools/ip.lua.
#include "core/config/field_checks.h"

#include <arpa/inet.h>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sluice::config::internal {
namespace {

bool AllDigits(absl::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// Parses decimal digits; values past 65535 report "invalid port number" (Kong's wording).
bool ParsePort(absl::string_view digits, int* port, std::string* error) {
  if (digits.size() > 5) {
    *error = "invalid port number";
    return false;
  }
  int value = 0;
  for (char c : digits) {
    value = value * 10 + (c - '0');
  }
  if (value > 65535) {
    *error = "invalid port number";
    return false;
  }
  *port = value;
  return true;
}

// Returns 0 when `s` is valid UTF-8, else the 1-based position of the first bad byte.
size_t InvalidUtf8Position(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size() || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4)) {
      return i + 1;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        return i + 1;
      }
    }
    i += len;
  }
  return 0;
}

bool IsTchar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

}  // namespace

bool NormalizeIp(absl::string_view address, HostPort* out, std::string* error) {
  *out = HostPort{};
  size_t colons = 0;
  bool digits_and_dots = true;
  for (char c : address) {
    if (c == ':') {
      ++colons;
    } else if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') {
      digits_and_dots = false;
    }
  }

  if (colons > 1) {
    out->type = HostPort::Type::kIpv6;
    absl::string_view addr = address;
    if (absl::StartsWith(address, "[")) {
      size_t close = address.find(']');
      if (close == absl::string_view::npos) {
        *error = absl::StrCat("invalid ipv6 address: ", address);
        return false;
      }
      addr = address.substr(1, close - 1);
      absl::string_view rest = address.substr(close + 1);
      if (!rest.empty()) {
        if (rest[0] != ':' || !AllDigits(rest.substr(1))) {
          *error = "invalid ipv6 address";
          return false;
        }
        int port = 0;
        if (!ParsePort(rest.substr(1), &port, error)) {
          return false;
        }
        out->port = port;
      }
    }
    std::string text(addr);
    in6_addr parsed{};
    if (inet_pton(AF_INET6, text.c_str(), &parsed) != 1) {
      *error = absl::StrCat("invalid ipv6 address: ", address);
      return false;
    }
    out->host = std::move(text);
    return true;
  }

  if (!address.empty() && digits_and_dots) {
    out->type = HostPort::Type::kIpv4;
    absl::string_view addr = address;
    size_t colon = address.find(':');
    if (colon != absl::string_view::npos) {
      addr = address.substr(0, colon);
      absl::string_view port_text = address.substr(colon + 1);
      if (!AllDigits(port_text)) {
        *error = absl::StrCat("invalid ipv4 address: ", address);
        return false;
      }
      int port = 0;
      if (!ParsePort(port_text, &port, error)) {
        return false;
      }
      out->port = port;
    }
    std::vector<absl::string_view> parts = absl::StrSplit(addr, '.');
    if (parts.size() != 4) {
      *error = absl::StrCat("invalid ipv4 address: ", address);
      return false;
    }
    for (absl::string_view part : parts) {
      if (part.empty() || part.size() > 3 || !AllDigits(part) ||
          std::stoi(std::string(part)) > 255) {
        *error = absl::StrCat("invalid ipv4 address: ", address);
        return false;
      }
    }
    out->host = std::string(addr);
    return true;
  }

  out->type = HostPort::Type::kName;
  absl::string_view name = address;
  size_t colon = address.rfind(':');
  if (colon != absl::string_view::npos && AllDigits(address.substr(colon + 1))) {
    int port = 0;
    if (!ParsePort(address.substr(colon + 1), &port, error)) {
      return false;
    }
    out->port = port;
    name = address.substr(0, colon);
  }
  bool ok = !name.empty();
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      ok = false;
    }
  }
  if (ok) {
    // No label may end in '-', and only the last label may be empty (a trailing dot).
    std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (absl::EndsWith(labels[i], "-") || (labels[i].empty() && i + 1 != labels.size())) {
        ok = false;
      }
    }
  }
  if (!ok) {
    *error = absl::StrCat("invalid hostname: ", address);
    return false;
  }
  out->host = std::string(name);
  return true;
}

std::optional<std::string> CheckUtf8Name(absl::string_view name) {
  if (size_t pos = InvalidUtf8Position(name)) {
    return absl::StrCat("invalid utf-8 character sequence detected at position ", pos);
  }
  bool ok = !name.empty();
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' ||
          (c >= 0x80 && c <= 0xF4))) {
      ok = false;
    }
  }
  if (ok) {
    return std::nullopt;
  }
  return absl::StrCat("invalid value '", name,
                      "': the only accepted ascii characters are alphanumerics or ., -, _, and ~");
}

std::optional<std::string> CheckTag(absl::string_view tag) {
  if (size_t pos = InvalidUtf8Position(tag)) {
    return absl::StrCat("invalid utf-8 character sequence detected at position ", pos);
  }
  bool ok = !tag.empty();
  for (char ch : tag) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (!((c >= 0x20 && c <= 0x7E && c != ',' && c != '/') || (c >= 0x80 && c <= 0xF4))) {
      ok = false;
    }
  }
  if (ok) {
    return std::nullopt;
  }
  return absl::StrCat("invalid tag '", tag,
                      "': expected printable ascii (except `,` and `/`) or valid utf-8 sequences");
}

std::optional<std::string> CheckHost(absl::string_view host) {
  HostPort hp;
  std::string error;
  if (!NormalizeIp(host, &hp, &error)) {
    if (error == "invalid port number") {
      return "must not have a port";
    }
    return absl::StrCat("invalid value: ", host);
  }
  if (hp.port) {
    return "must not have a port";
  }
  return std::nullopt;
}

std::optional<std::string> CheckHostWithOptionalPort(absl::string_view host) {
  HostPort hp;
  std::string error;
  if (!NormalizeIp(host, &hp, &error)) {
    return error;
  }
  return std::nullopt;
}

std::optional<std::string> CheckSni(absl::string_view sni) {
  HostPort hp;
  std::string error;
  if (!NormalizeIp(sni, &hp, &error)) {
    if (error == "invalid port number") {
      return "must not have a port";
    }
    return absl::StrCat("invalid value: ", sni);
  }
  if (hp.type != HostPort::Type::kName) {
    return "must not be an IP";
  }
  if (hp.port) {
    return "must not have a port";
  }
  return std::nullopt;
}

std::optional<std::string> CheckRouteHost(absl::string_view host) {
  size_t stars = 0;
  for (char c : host) {
    stars += c == '*';
  }
  if (stars > 1) {
    return "invalid wildcard: must have at most one wildcard";
  }
  if (stars == 1 && !absl::StartsWith(host, "*.") && !absl::EndsWith(host, ".*")) {
    return "invalid wildcard: must be placed at leftmost or rightmost label";
  }
  // Kong validates the host with the wildcard replaced by an ordinary label.
  std::string mock(host);
  if (size_t star = mock.find('*'); star != std::string::npos) {
    mock.replace(star, 1, "abc");
  }
  HostPort hp;
  std::string error;
  if (!NormalizeIp(mock, &hp, &error)) {
    if (absl::StartsWith(error, "invalid hostname: ")) {
      return absl::StrCat("invalid hostname: ", host);
    }
    return error;
  }
  return std::nullopt;
}

std::optional<std::string> CheckPercentEncoding(absl::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      continue;
    }
    if (i + 2 < path.size() && absl::ascii_isxdigit(static_cast<unsigned char>(path[i + 1])) &&
        absl::ascii_isxdigit(static_cast<unsigned char>(path[i + 2]))) {
      i += 2;
      continue;
    }
    return absl::StrCat("invalid url-encoded value: '", path.substr(i, 3), "'");
  }
  return std::nullopt;
}

std::optional<std::string> CheckPath(absl::string_view path) {
  if (!absl::StartsWith(path, "/")) {
    return "should start with: /";
  }
  if (absl::StrContains(path, "//")) {
    return "must not have empty segments";
  }
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (!absl::ascii_isalnum(c) &&
        absl::string_view(".-_~/%:@!$&'()*+,;=").find(ch) == absl::string_view::npos) {
      return absl::StrCat("invalid path: '", path,
                          "' (characters outside of the reserved list of RFC 3986 found)");
    }
  }
  return CheckPercentEncoding(path);
}

std::optional<std::string> CheckHeaderName(absl::string_view name) {
  bool ok = !name.empty();
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      ok = false;
    }
  }
  if (ok) {
    return std::nullopt;
  }
  return absl::StrCat("bad header name '", name,
                      "', allowed characters are A-Z, a-z, 0-9, '_', and '-'");
}

std::optional<std::string> CheckCookieName(absl::string_view name) {
  bool ok = !name.empty();
  for (char c : name) {
    ok = ok && IsTchar(c);
  }
  if (ok) {
    return std::nullopt;
  }
  return absl::StrCat("bad cookie name '", name,
                      "', allowed characters are A-Z, a-z, 0-9, '!', '#', '$', '%', '&', ''', "
                      "'*', '+', '-', '.', '^', '_', '`', '|' and '~'");
}

bool ParseUrl(absl::string_view url, ParsedUrl* out, std::string* error) {
  *out = ParsedUrl{};
  absl::string_view rest = url;
  size_t sep = url.find("://");
  bool scheme_ok = sep != absl::string_view::npos && sep > 0 &&
                   absl::ascii_isalpha(static_cast<unsigned char>(url[0]));
  for (size_t i = 0; scheme_ok && i < sep; ++i) {
    char c = url[i];
    scheme_ok =
        absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  }
  if (scheme_ok) {
    out->scheme = std::string(url.substr(0, sep));
    rest = url.substr(sep + 3);
  } else if (absl::StartsWith(url, "//")) {
    rest = url.substr(2);
  } else {
    *error = "missing scheme in url";
    return false;
  }
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    *error = "url must not have a query string or fragment";
    return false;
  }
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  if (slash != absl::string_view::npos) {
    out->path = std::string(rest.substr(slash));
  }
  if (authority.find('@') != absl::string_view::npos) {
    *error = "url must not carry credentials";
    return false;
  }
  absl::string_view port_text;
  bool has_port = false;
  if (absl::StartsWith(authority, "[")) {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      *error = "invalid host in url";
      return false;
    }
    out->host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        *error = "invalid host in url";
        return false;
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out->host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }
  if (out->host.empty()) {
    *error = "missing host in url";
    return false;
  }
  if (has_port) {
    int port = 0;
    std::string port_error;
    if (!AllDigits(port_text) || !ParsePort(port_text, &port, &port_error)) {
      *error = absl::StrCat("invalid port in url: '", port_text, "'");
      return false;
    }
    out->port = port;
  }
  return true;
}

}  // namespace sluice::config::internal

// SPDX-License-Identifier: Apache-2.0
// Origin normalisation and matching; see origin.h.
#include "origin.h"

#include <utility>

#include <re2/re2.h>

namespace sluice::filters::cors {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// LuaSocket's scheme pattern: ^[%w][%w%+%-%.]*:
size_t SchemeLength(std::string_view s) {
  if (s.empty() || !IsAlnum(s[0]))
    return 0;
  size_t i = 1;
  while (i < s.size() && (IsAlnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
    ++i;
  return i < s.size() && s[i] == ':' ? i : 0;
}

}  // namespace

bool IsPlainOrigin(std::string_view entry) {
  if (entry.empty())
    return false;
  for (char c : entry) {
    if (!IsAlnum(c) && c != '.' && c != ':' && c != '/' && c != '-')
      return false;
  }
  return true;
}

NormalizedOrigin NormalizeOrigin(std::string_view origin) {
  // The same steps, in the same order, as LuaSocket's url.parse: fragment, scheme, authority;
  // then userinfo and port are cut from the authority. Without a host the input is kept whole.
  const NormalizedOrigin unchanged{std::string(origin), std::string(origin)};
  std::string_view rest = origin;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  std::string_view scheme;
  bool has_scheme = false;
  if (size_t n = SchemeLength(rest); n > 0) {
    scheme = rest.substr(0, n);
    has_scheme = true;
    rest.remove_prefix(n + 1);
  }
  if (rest.substr(0, 2) != "//")
    return unchanged;
  rest.remove_prefix(2);
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (size_t at = authority.find('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  // The port is the text after the last ':' when it holds no ':' or ']' (so "[::1]" keeps its
  // colons); an empty port ("host:") still counts, as in Lua.
  std::optional<std::string_view> port;
  if (size_t colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
  }
  if (authority.empty())
    return unchanged;
  std::string_view host = authority;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port && ((scheme == "http" && *port == "80") || (scheme == "https" && *port == "443")))
    port.reset();
  NormalizedOrigin out;
  if (has_scheme) {
    out.domain.append(scheme);
    out.domain.append("://");
  }
  out.domain.append(host);
  if (port) {
    out.domain.push_back(':');
    out.domain.append(*port);
  }
  out.host = std::string(host);
  return out;
}

struct OriginPolicy::Rule {
  bool any = false;                 // "*"
  std::string domain;               // a plain entry, normalised
  std::unique_ptr<re2::RE2> regex;  // a regex entry, anchored as Kong anchors it
  bool by_host = false;             // no ':' in the entry: match the host alone
};

OriginPolicy::OriginPolicy() = default;
OriginPolicy::~OriginPolicy() = default;
OriginPolicy::OriginPolicy(OriginPolicy&&) noexcept = default;
OriginPolicy& OriginPolicy::operator=(OriginPolicy&&) noexcept = default;

std::optional<std::string> OriginPolicy::Build(
    const std::optional<std::vector<std::string>>& origins, OriginPolicy* out, size_t* bad_index) {
  OriginPolicy policy;
  const size_t n = origins ? origins->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string& entry = (*origins)[i];
    Rule rule;
    if (entry == "*") {
      rule.any = true;
      policy.rules_.push_back(std::move(rule));
      continue;
    }
    // Kong's schema accepts "*" or anything that compiles as a regex (plain origins do).
    re2::RE2::Options options;
    options.set_log_errors(false);
    if (!re2::RE2(entry, options).ok()) {
      *bad_index = i;
      return "'" + entry + "' is not a valid regex";
    }
    rule.by_host = entry.find(':') == std::string::npos;
    if (IsPlainOrigin(entry)) {
      rule.domain = NormalizeOrigin(entry).domain;
    } else {
      // Kong 0.x regexes were unanchored; Kong anchors the end unless the entry does, drops a
      // leading '^' and matches anchored at the start.
      std::string pattern = entry;
      if (pattern.empty() || pattern.back() != '$')
        pattern.push_back('$');
      if (pattern.front() == '^')
        pattern.erase(0, 1);
      rule.regex = std::make_unique<re2::RE2>(pattern, options);
      if (!rule.regex->ok()) {
        *bad_index = i;
        return "'" + entry + "' is not a valid regex";
      }
    }
    policy.rules_.push_back(std::move(rule));
  }
  policy.allow_all_ = n == 0 || (n == 1 && (*origins)[0] == "*");
  if (n == 1 && IsPlainOrigin((*origins)[0]))
    policy.literal_ = (*origins)[0];
  *out = std::move(policy);
  return std::nullopt;
}

OriginDecision OriginPolicy::Decide(std::optional<std::string_view> request_origin) const {
  OriginDecision d;
  if (allow_all_) {
    d.kind = OriginDecision::Kind::kAllowAll;
    return d;
  }
  d.vary = true;
  if (literal_) {
    d.kind = OriginDecision::Kind::kLiteral;
    d.value = *literal_;
    return d;
  }
  if (request_origin) {
    NormalizedOrigin req = NormalizeOrigin(*request_origin);
    for (const Rule& rule : rules_) {
      bool found = false;
      if (rule.any) {
        d.kind = OriginDecision::Kind::kAllowAll;
        return d;
      }
      if (rule.regex) {
        const std::string& subject = rule.by_host ? req.host : req.domain;
        found = rule.regex->Match(subject, 0, subject.size(), re2::RE2::ANCHOR_START, nullptr, 0);
      } else {
        found = req.domain == rule.domain;
      }
      if (found) {
        d.kind = OriginDecision::Kind::kMatched;
        d.value = std::move(req.domain);
        return d;
      }
    }
  }
  d.kind = OriginDecision::Kind::kNone;
  return d;
}

}  // namespace sluice::filters::cors

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/hash_key.h"

#include "absl/hash/internal/city.h"
#include "absl/strings/numbers.h"

#include "core/common/strings.h"

namespace sluice::balancer {
namespace {

HashSource Make(absl::string_view kind, const std::string& header, const std::string& cookie,
                const std::string& query_arg, const std::string& capture) {
  using K = HashSource::Kind;
  HashSource s;
  if (kind == "consumer") {
    s.kind = K::kConsumer;
  } else if (kind == "ip") {
    s.kind = K::kIp;
  } else if (kind == "header") {
    s.kind = K::kHeader;
    s.name = header;
  } else if (kind == "cookie") {
    s.kind = K::kCookie;
    s.name = cookie;
  } else if (kind == "path") {
    s.kind = K::kPath;
  } else if (kind == "query_arg") {
    s.kind = K::kQueryArg;
    s.name = query_arg;
  } else if (kind == "uri_capture") {
    s.kind = K::kUriCapture;
    s.name = capture;
  }
  return s;
}

// The value of cookie `name` in one Cookie header value ("a=1; b=2").
absl::string_view FindCookie(absl::string_view header, absl::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    absl::string_view pair = TrimOws(header.substr(0, end));
    header = end == absl::string_view::npos ? absl::string_view() : header.substr(end + 1);
    size_t eq = pair.find('=');
    if (eq != absl::string_view::npos && TrimOws(pair.substr(0, eq)) == name)
      return TrimOws(pair.substr(eq + 1));
  }
  return {};
}

absl::string_view FindQueryArg(absl::string_view query, absl::string_view name) {
  while (!query.empty()) {
    size_t end = query.find('&');
    absl::string_view pair = query.substr(0, end);
    query = end == absl::string_view::npos ? absl::string_view() : query.substr(end + 1);
    size_t eq = pair.find('=');
    absl::string_view key = pair.substr(0, eq);
    if (key == name)
      return eq == absl::string_view::npos ? absl::string_view() : pair.substr(eq + 1);
  }
  return {};
}

// Kong names a capture by group name or by number ("1" is the first group).
absl::string_view FindCapture(const router::MatchResult& m, absl::string_view name) {
  for (const auto& c : m.captures) {
    if (!c.name.empty() && c.name == name)
      return c.value;
  }
  int index = 0;
  if (absl::SimpleAtoi(name, &index) && index >= 1 &&
      static_cast<size_t>(index) <= m.captures.size()) {
    return m.captures[static_cast<size_t>(index) - 1].value;
  }
  return {};
}

}  // namespace

HashSource HashSource::Primary(const config::Upstream& u) {
  return Make(u.hash_on, u.hash_on_header, u.hash_on_cookie, u.hash_on_query_arg,
              u.hash_on_uri_capture);
}

HashSource HashSource::Fallback(const config::Upstream& u) {
  return Make(u.hash_fallback, u.hash_fallback_header, "", u.hash_fallback_query_arg,
              u.hash_fallback_uri_capture);
}

absl::string_view KeyFor(const HashSource& src, const RequestFacts& facts) {
  using K = HashSource::Kind;
  switch (src.kind) {
    case K::kNone:
      return {};
    case K::kConsumer:
      return facts.consumer_id;
    case K::kIp:
      return facts.client_ip;
    case K::kHeader:
      return facts.headers ? facts.headers->Get(src.name) : absl::string_view();
    case K::kCookie: {
      absl::string_view found;
      if (facts.headers) {
        facts.headers->ForEach("cookie", [&](absl::string_view v) {
          found = FindCookie(v, src.name);
          return found.empty();
        });
      }
      return found;
    }
    case K::kPath:
      return facts.path;
    case K::kQueryArg:
      return FindQueryArg(facts.query, src.name);
    case K::kUriCapture:
      return facts.match ? FindCapture(*facts.match, src.name) : absl::string_view();
  }
  return {};
}

uint64_t StableHash64(absl::string_view data) {
  return absl::hash_internal::CityHash64(data.data(), data.size());
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/hash_key.h"

#include <catch2/catch.hpp>

namespace sluice::balancer {
namespace {

HashSource Source(HashSource::Kind kind, std::string name = "") {
  HashSource s;
  s.kind = kind;
  s.name = std::move(name);
  return s;
}

TEST_CASE("hash key: each Kong hash_on source reads its part of the request", "[balancer]") {
  using K = HashSource::Kind;
  http::HeaderMap headers;
  headers.Add("X-Tenant", "acme");
  headers.Add("Cookie", "theme=dark; session = s-42 ;x=1");
  router::MatchResult match;
  match.captures.push_back({"id", "7"});
  match.captures.push_back({"", "books"});
  RequestFacts f;
  f.consumer_id = "c-1";
  f.client_ip = "192.0.2.9";
  f.path = "/v1/books";
  f.query = "a=1&user=u%20x&user=second&flag";
  f.headers = &headers;
  f.match = &match;

  CHECK(KeyFor(Source(K::kNone), f).empty());
  CHECK(KeyFor(Source(K::kConsumer), f) == "c-1");
  CHECK(KeyFor(Source(K::kIp), f) == "192.0.2.9");
  CHECK(KeyFor(Source(K::kPath), f) == "/v1/books");
  CHECK(KeyFor(Source(K::kHeader, "x-tenant"), f) == "acme");
  CHECK(KeyFor(Source(K::kHeader, "x-missing"), f).empty());
  CHECK(KeyFor(Source(K::kCookie, "session"), f) == "s-42");
  CHECK(KeyFor(Source(K::kCookie, "nope"), f).empty());
  CHECK(KeyFor(Source(K::kQueryArg, "user"), f) == "u%20x");
  CHECK(KeyFor(Source(K::kQueryArg, "flag"), f).empty());
  CHECK(KeyFor(Source(K::kUriCapture, "id"), f) == "7");
  CHECK(KeyFor(Source(K::kUriCapture, "2"), f) == "books");
  CHECK(KeyFor(Source(K::kUriCapture, "3"), f).empty());
}

TEST_CASE("hash key: sources come from the upstream's Kong fields", "[balancer]") {
  config::Upstream u;
  u.hash_on = "cookie";
  u.hash_on_cookie = "sid";
  u.hash_fallback = "none";
  CHECK(HashSource::Primary(u).kind == HashSource::Kind::kCookie);
  CHECK(HashSource::Primary(u).name == "sid");
  u.hash_on = "header";
  u.hash_on_header = "x-a";
  u.hash_fallback = "query_arg";
  u.hash_fallback_query_arg = "q";
  CHECK(HashSource::Fallback(u).kind == HashSource::Kind::kQueryArg);
  CHECK(HashSource::Fallback(u).name == "q");
}

TEST_CASE("hash key: the hash is stable across runs", "[balancer]") {
  // Fixed values: a change here would remap every consistent-hashing key on upgrade.
  CHECK(StableHash64("") == StableHash64(""));
  CHECK(StableHash64("alice") != StableHash64("bob"));
  CHECK(StableHash64("alice") == 0x8c84811dffd0a905ULL);
}

}  // namespace
}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// cors origin normalisation and matching (reference/kong.md §6.2).
#include "origin.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::filters::cors {
namespace {

OriginPolicy Policy(std::vector<std::string> origins) {
  OriginPolicy p;
  size_t bad = 99;
  const auto error = OriginPolicy::Build(origins, &p, &bad);
  REQUIRE_FALSE(error.has_value());
  return p;
}

using Kind = OriginDecision::Kind;

TEST_CASE("cors origin: normalisation follows Kong's normalize_origin", "[filters][cors]") {
  struct Case {
    const char* in;
    const char* domain;
    const char* host;
  };

  const Case cases[] = {
      {"http://example.com", "http://example.com", "example.com"},
      {"http://example.com:80", "http://example.com", "example.com"},
      {"https://example.com:443", "https://example.com", "example.com"},
      {"http://example.com:443", "http://example.com:443", "example.com"},
      {"https://example.com:80", "https://example.com:80", "example.com"},
      {"https://Example.COM:8443/path?q=1#frag", "https://Example.COM:8443", "Example.COM"},
      {"http://user:secret@example.com:81", "http://example.com:81", "example.com"},
      {"http://[::1]:8080", "http://::1:8080", "::1"},
      {"http://[::1]", "http://::1", "::1"},
      {"http://host:", "http://host:", "host"},
      {"//example.com:81", "example.com:81", "example.com"},
      {"null", "null", "null"},
      {"example.com", "example.com", "example.com"},
      {"http://", "http://", "http://"},
      {"", "", ""},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    const NormalizedOrigin n = NormalizeOrigin(c.in);
    CHECK(n.domain == c.domain);
    CHECK(n.host == c.host);
  }
}

TEST_CASE("cors origin: plain entries are [A-Za-z0-9.:/-] only", "[filters][cors]") {
  CHECK(IsPlainOrigin("http://a.example:8080"));
  CHECK(IsPlainOrigin("a-b.example"));
  CHECK_FALSE(IsPlainOrigin("*"));
  CHECK_FALSE(IsPlainOrigin("http://*.example"));
  CHECK_FALSE(IsPlainOrigin("(.*\\.)?example\\.com"));
  CHECK_FALSE(IsPlainOrigin("http://a_b.example"));
  CHECK_FALSE(IsPlainOrigin(""));
}

TEST_CASE("cors origin: no origins or [\"*\"] allow all without Vary", "[filters][cors]") {
  for (const OriginPolicy& p : {Policy({}), Policy({"*"})}) {
    const OriginDecision d = p.Decide("http://x.example");
    CHECK(d.kind == Kind::kAllowAll);
    CHECK_FALSE(d.vary);
    CHECK(p.Decide(std::nullopt).kind == Kind::kAllowAll);
  }
  OriginPolicy none;
  CHECK(none.Decide("http://x.example").kind == Kind::kAllowAll);
}

TEST_CASE("cors origin: one plain entry is sent whatever the request says", "[filters][cors]") {
  const OriginPolicy p = Policy({"http://a.example:80"});
  for (std::optional<std::string_view> origin :
       {std::optional<std::string_view>("http://evil.example"), std::optional<std::string_view>(),
        std::optional<std::string_view>("http://a.example")}) {
    const OriginDecision d = p.Decide(origin);
    CHECK(d.kind == Kind::kLiteral);
    CHECK(d.value == "http://a.example:80");  // verbatim, not normalised
    CHECK(d.vary);
  }
}

TEST_CASE("cors origin: plain entries in a list compare normalised origins", "[filters][cors]") {
  const OriginPolicy p = Policy({"http://a.example", "https://b.example:443"});
  SECTION("default port in the request") {
    const OriginDecision d = p.Decide("http://a.example:80");
    CHECK(d.kind == Kind::kMatched);
    CHECK(d.value == "http://a.example");
  }
  SECTION("default port in the entry") {
    const OriginDecision d = p.Decide("https://b.example");
    CHECK(d.kind == Kind::kMatched);
    CHECK(d.value == "https://b.example");
  }
  SECTION("no prefix matching (Kong #3832)") {
    CHECK(p.Decide("http://a.example.evil.net").kind == Kind::kNone);
    CHECK(p.Decide("http://a.example:8080").kind == Kind::kNone);
    CHECK(p.Decide("https://a.example").kind == Kind::kNone);
  }
  SECTION("no Origin") {
    const OriginDecision d = p.Decide(std::nullopt);
    CHECK(d.kind == Kind::kNone);
    CHECK(d.vary);
  }
}

TEST_CASE("cors origin: regexes without ':' match the host", "[filters][cors]") {
  const OriginPolicy p = Policy({"(.*\\.)?example\\.com"});
  const OriginDecision d = p.Decide("https://api.example.com:8443");
  CHECK(d.kind == Kind::kMatched);
  CHECK(d.value == "https://api.example.com:8443");
  CHECK(p.Decide("http://example.com").kind == Kind::kMatched);
  // Kong appends '$': no suffix after the match.
  CHECK(p.Decide("http://example.com.evil.net").kind == Kind::kNone);
  // Anchored at the start: the whole host must match.
  CHECK(p.Decide("http://evilexample.com").kind == Kind::kNone);
}

TEST_CASE("cors origin: regexes with ':' match scheme://host[:port]", "[filters][cors]") {
  const OriginPolicy p = Policy({"^https://[a-z]+\\.example\\.org(:\\d+)?$"});
  CHECK(p.Decide("https://app.example.org").kind == Kind::kMatched);
  CHECK(p.Decide("https://app.example.org:8443").kind == Kind::kMatched);
  CHECK(p.Decide("https://app.example.org:443").kind == Kind::kMatched);
  CHECK(p.Decide("http://app.example.org").kind == Kind::kNone);
  CHECK(p.Decide("https://APP.example.org").kind == Kind::kNone);  // case-sensitive, as Kong
}

TEST_CASE("cors origin: entries are tried in order and '*' allows all", "[filters][cors]") {
  const OriginPolicy p = Policy({"http://a.example", "*"});
  const OriginDecision matched = p.Decide("http://a.example");
  CHECK(matched.kind == Kind::kMatched);
  const OriginDecision star = p.Decide("http://other.example");
  CHECK(star.kind == Kind::kAllowAll);
  CHECK(star.vary);  // Kong set Vary before it reached the '*'
  CHECK(p.Decide(std::nullopt).kind == Kind::kNone);
}

TEST_CASE("cors origin: Build reports the first bad entry", "[filters][cors]") {
  OriginPolicy p;
  size_t bad = 99;
  const std::optional<std::vector<std::string>> origins =
      std::vector<std::string>{"*", "ok", "a(b", "("};
  const auto error = OriginPolicy::Build(origins, &p, &bad);
  REQUIRE(error.has_value());
  CHECK(*error == "'a(b' is not a valid regex");
  CHECK(bad == 2);
}

}  // namespace
}  // namespace sluice::filters::cors

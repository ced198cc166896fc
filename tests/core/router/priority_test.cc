// SPDX-License-Identifier: Apache-2.0
// Priority between matching routes (reference/kong.md §2.3). Each case is built so that it
// fails if the rule it names were missing or ordered differently.
#include "core/router/priority.h"

#include <cstdint>

#include <catch2/catch.hpp>

#include "tests/core/router/route_builder.h"

namespace sluice::router {
namespace {

using testing::RouteBuilder;
using testing::Table;

TEST_CASE("router: longer prefix wins at equal weight", "[router]") {
  Table t;
  t.Add(RouteBuilder("short").Paths({"/api"}));
  t.Add(RouteBuilder("long").Paths({"/api/v1"}));
  t.Compile();
  CHECK(t.Match("example.com", "/api/v1/users") == "long");
  CHECK(t.Match("example.com", "/api/v2/users") == "short");
  CHECK(t.Match("example.com", "/api/v1") == "long");
}

TEST_CASE("router: more set attributes outrank a longer prefix", "[router]") {
  Table t;
  t.Add(RouteBuilder("long-path").Paths({"/very/long/prefix"}));
  t.Add(RouteBuilder("method-and-root").Paths({"/"}).Methods({"GET"}));
  t.Compile();
  CHECK(t.Match("example.com", "/very/long/prefix/x") == "method-and-root");
  testing::Request post;
  post.method = "POST";
  post.path = "/very/long/prefix/x";
  CHECK(t.Match(post) == "long-path");
}

TEST_CASE("router: plain hosts outrank a wildcard host at equal weight", "[router]") {
  Table t;
  t.Add(RouteBuilder("wildcard-long").Hosts({"*.example.com"}).Paths({"/long/prefix"}));
  t.Add(RouteBuilder("plain-short").Hosts({"api.example.com"}).Paths({"/"}));
  t.Compile();
  // Without the plain-hosts bit the longer prefix would win.
  CHECK(t.Match("api.example.com", "/long/prefix") == "plain-short");
  CHECK(t.Match("web.example.com", "/long/prefix") == "wildcard-long");
}

TEST_CASE("router: one wildcard host clears the plain-hosts bit of the whole route", "[router]") {
  Table t;
  t.Add(RouteBuilder("mixed").Hosts({"api.example.com", "*.example.org"}).Paths({"/long"}));
  t.Add(RouteBuilder("plain").Hosts({"api.example.com"}).Paths({"/"}));
  t.Compile();
  CHECK(t.Match("api.example.com", "/long") == "plain");
}

TEST_CASE("router: more header conditions win at equal weight", "[router]") {
  Table t;
  t.Add(RouteBuilder("one-header-long").Header("x-a", {"1"}).Paths({"/long/prefix"}));
  t.Add(RouteBuilder("two-headers").Header("x-a", {"1"}).Header("x-b", {"2"}).Paths({"/"}));
  t.Compile();
  testing::Request req;
  req.path = "/long/prefix";
  req.Header("X-A", "1").Header("X-B", "2");
  CHECK(t.Match(req) == "two-headers");
  testing::Request only_a;
  only_a.path = "/long/prefix";
  only_a.Header("X-A", "1");
  CHECK(t.Match(only_a) == "one-header-long");
}

TEST_CASE("router: the header count ranks above the regex bit", "[router]") {
  Table t;
  t.Add(RouteBuilder("regex-one-header").Header("x-a", {"1"}).Paths({"~/items/\\d+"}));
  t.Add(RouteBuilder("prefix-two-headers")
            .Header("x-a", {"1"})
            .Header("x-b", {"2"})
            .Paths({"/items"}));
  t.Compile();
  testing::Request req;
  req.path = "/items/7";
  req.Header("x-a", "1").Header("x-b", "2");
  CHECK(t.Match(req) == "prefix-two-headers");
}

TEST_CASE("router: a regex path outranks a longer prefix at equal weight", "[router]") {
  Table t;
  t.Add(RouteBuilder("prefix").Paths({"/users/123456789"}));
  t.Add(RouteBuilder("regex").Paths({"~/users/\\d+"}));
  t.Compile();
  CHECK(t.Match("example.com", "/users/123456789") == "regex");
  CHECK(t.Match("example.com", "/users/123456789x") == "regex");
}

TEST_CASE("router: higher regex_priority wins between regex paths", "[router]") {
  Table t;
  t.Add(RouteBuilder("low").Paths({"~/a/\\w+"}).RegexPriority(1));
  t.Add(RouteBuilder("high").Paths({"~/a/b"}).RegexPriority(5));
  t.Add(RouteBuilder("negative").Paths({"~/a"}).RegexPriority(-3));
  t.Compile();
  CHECK(t.Match("example.com", "/a/b") == "high");
  CHECK(t.Match("example.com", "/a/c") == "low");
  // A negative regex_priority ranks below 0 but keeps the regex above plain prefixes.
  CHECK(t.Match("example.com", "/a") == "negative");
}

TEST_CASE("router: a negative regex_priority still outranks a prefix", "[router]") {
  Table t;
  t.Add(RouteBuilder("prefix").Paths({"/a/long/prefix"}));
  t.Add(RouteBuilder("regex").Paths({"~/a"}).RegexPriority(-1000));
  t.Add(RouteBuilder("zero").Paths({"~/a/x"}));
  t.Add(RouteBuilder("lowest").Paths({"~/b"}).RegexPriority(INT32_MIN));
  t.Add(RouteBuilder("prefix-b").Paths({"/b/long/prefix"}));
  t.Compile();
  CHECK(t.Match("example.com", "/a/long/prefix") == "regex");
  CHECK(t.Match("example.com", "/a/x") == "zero");
  CHECK(t.Match("example.com", "/b/long/prefix") == "lowest");
}

TEST_CASE("router: regex_priority does not apply to prefix paths", "[router]") {
  Table t;
  t.Add(RouteBuilder("short-high").Paths({"/api"}).RegexPriority(100));
  t.Add(RouteBuilder("long").Paths({"/api/v1"}));
  t.Compile();
  CHECK(t.Match("example.com", "/api/v1/x") == "long");
}

TEST_CASE("router: paths of different lengths are split into sub-routes", "[router]") {
  Table t;
  t.Add(RouteBuilder("split").Paths({"/a", "/abcdef"}));
  t.Add(RouteBuilder("middle").Paths({"/abc"}));
  t.Compile();
  // As one route ranked by its longest path, "split" would win both.
  CHECK(t.Match("example.com", "/abcdefg") == "split");
  CHECK(t.Match("example.com", "/abcx") == "middle");
  MatchResult res;
  testing::Request req;
  req.path = "/abcdefg";
  REQUIRE(t.Match(req, &res) == "split");
  CHECK(res.matched_prefix == "/abcdef");
  req.path = "/ax";
  REQUIRE(t.Match(req, &res) == "split");
  CHECK(res.matched_prefix == "/a");
}

TEST_CASE("router: a route mixing regex and prefix paths is split", "[router]") {
  Table t;
  t.Add(RouteBuilder("mixed").Paths({"/p", "~/r/\\d+"}));
  t.Add(RouteBuilder("prefix-r").Paths({"/r/1"}));
  t.Add(RouteBuilder("prefix-p").Paths({"/p/long"}));
  t.Compile();
  // The regex group of "mixed" beats a prefix; its prefix group loses to a longer prefix.
  CHECK(t.Match("example.com", "/r/12") == "mixed");
  CHECK(t.Match("example.com", "/p/long/x") == "prefix-p");
  CHECK(t.Match("example.com", "/p/other") == "mixed");
}

TEST_CASE("router: equal priority goes to the route listed first", "[router]") {
  SECTION("prefix") {
    Table t;
    t.Add(RouteBuilder("first").Paths({"/same"}));
    t.Add(RouteBuilder("second").Paths({"/same"}));
    t.Compile();
    CHECK(t.Match("example.com", "/same/x") == "first");
  }
  SECTION("regex") {
    Table t;
    t.Add(RouteBuilder("first").Paths({"~/x/\\d+"}));
    t.Add(RouteBuilder("second").Paths({"~/x/1"}));
    t.Compile();
    CHECK(t.Match("example.com", "/x/1") == "first");
  }
  SECTION("reversed order") {
    Table t;
    t.Add(RouteBuilder("second").Paths({"~/x/1"}));
    t.Add(RouteBuilder("first").Paths({"~/x/\\d+"}));
    t.Compile();
    CHECK(t.Match("example.com", "/x/1") == "second");
  }
}

TEST_CASE("router: a template ranks like a regex path", "[router]") {
  Table t;
  t.Add(RouteBuilder("long-prefix").Paths({"/users/42/orders"}));
  t.Add(RouteBuilder("template").Paths({"/users/{id}"}));
  t.Add(RouteBuilder("regex-low").Paths({"~/users/\\d+"}).RegexPriority(-1));
  t.Add(RouteBuilder("regex-high").Paths({"~/users/7"}).RegexPriority(1));
  t.Compile();
  CHECK(t.Match("example.com", "/users/42/orders") == "template");
  CHECK(t.Match("example.com", "/users/7") == "regex-high");
}

TEST_CASE("router: priority key fields are ordered as Kong's", "[router]") {
  PriorityInputs base;
  auto key = [](PriorityInputs in) { return PriorityKey(in); };
  PriorityInputs weight = base;
  weight.match_weight = 2;
  PriorityInputs everything_else = base;
  everything_else.match_weight = 1;
  everything_else.plain_hosts_only = true;
  everything_else.header_count = 1000;
  everything_else.regex = true;
  everything_else.regex_priority = INT32_MAX;
  everything_else.prefix_length = 1 << 20;
  CHECK(key(weight) > key(everything_else));

  PriorityInputs plain = base;
  plain.plain_hosts_only = true;
  PriorityInputs headers = base;
  headers.header_count = 255;
  headers.regex = true;
  headers.regex_priority = INT32_MAX;
  headers.prefix_length = 0x7FFFF;
  CHECK(key(plain) > key(headers));

  PriorityInputs more_headers = base;
  more_headers.header_count = 2;
  PriorityInputs regex = base;
  regex.header_count = 1;
  regex.regex = true;
  regex.regex_priority = INT32_MAX;
  CHECK(key(more_headers) > key(regex));

  PriorityInputs capped = base;
  capped.header_count = 300;
  PriorityInputs max = base;
  max.header_count = 255;
  CHECK(key(capped) == key(max));

  PriorityInputs r_low = base;
  r_low.regex = true;
  r_low.regex_priority = INT32_MIN;
  PriorityInputs long_prefix = base;
  long_prefix.prefix_length = 0x7FFFF;
  CHECK(key(r_low) > key(long_prefix));

  PriorityInputs r_neg = r_low;
  r_neg.regex_priority = -1;
  PriorityInputs r_zero = r_low;
  r_zero.regex_priority = 0;
  CHECK(key(r_zero) > key(r_neg));
  CHECK(key(r_neg) > key(r_low));

  PriorityInputs not_regex = base;
  not_regex.regex_priority = 99;
  CHECK(key(not_regex) == key(base));
}

}  // namespace
}  // namespace sluice::router

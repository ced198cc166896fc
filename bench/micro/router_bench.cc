// SPDX-License-Identifier: Apache-2.0
// Micro benchmark of Router::Match: the same lookups against 10 and 5000 routes, to show that
// matching cost follows the request, not the table size. Run several times and report the
// centre and spread (STYLE.md §7).
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include <catch2/catch.hpp>

#include "core/config/config.h"
#include "core/http/header_map.h"
#include "core/router/router.h"

namespace sluice::router {
namespace {

config::RoutePath Prefix(std::string p) {
  config::RoutePath out;
  out.kind = config::RoutePath::Kind::kPrefix;
  out.raw = p;
  out.pattern = std::move(p);
  return out;
}

config::RoutePath Regex(std::string re) {
  config::RoutePath out;
  out.kind = config::RoutePath::Kind::kRegex;
  out.raw = "~" + re;
  out.pattern = std::move(re);
  return out;
}

// `n` routes shaped like a real gateway: a prefix per service, every third one behind a host,
// every tenth with a method list, plus a few regex and wildcard routes and a catch-all.
std::unique_ptr<Router> BuildTable(int n) {
  config::Config c;
  config::Service s;
  s.name = "svc";
  s.host = "upstream";
  c.services.push_back(s);
  for (int i = 0; i < n; ++i) {
    config::Route r;
    r.name = absl::StrCat("r", i);
    r.service = 0;
    r.paths.push_back(Prefix(absl::StrCat("/api/svc", i, "/v1")));
    if (i % 3 == 0)
      r.hosts.push_back(absl::StrCat("tenant", i, ".example.com"));
    if (i % 10 == 0)
      r.methods = {"GET", "POST"};
    c.routes.push_back(std::move(r));
  }
  for (int i = 0; i < 4; ++i) {
    config::Route r;
    r.name = absl::StrCat("re", i);
    r.service = 0;
    r.paths.push_back(Regex(absl::StrCat("/items", i, "/(?P<id>\\d+)$")));
    c.routes.push_back(std::move(r));
  }
  config::Route wild;
  wild.name = "wild";
  wild.service = 0;
  wild.hosts = {"*.wild.example.com"};
  c.routes.push_back(wild);
  config::Route all;
  all.name = "all";
  all.service = 0;
  all.paths.push_back(Prefix("/"));
  c.routes.push_back(all);
  auto r = Router::Compile(c);
  REQUIRE(r.ok());
  return *std::move(r);
}

TEST_CASE("router bench: Match on 10 vs 5000 routes", "[router][bench]") {
  std::unique_ptr<Router> small = BuildTable(10);
  std::unique_ptr<Router> large = BuildTable(5000);
  http::HeaderMap headers;
  headers.Add("User-Agent", "bench");
  headers.Add("Accept", "*/*");

  RequestView prefix;
  prefix.method = "GET";
  prefix.host = "tenant9.example.com";
  prefix.path = "/api/svc9/v1/users/42";
  prefix.headers = &headers;
  prefix.listener_port = 8000;

  RequestView regex = prefix;
  regex.host = "example.com";
  regex.path = "/items2/12345";

  RequestView miss = prefix;
  miss.host = "unknown.example.com";
  miss.path = "/nothing/here";

  MatchResult res;
  REQUIRE(small->Match(prefix, &res));
  REQUIRE(large->Match(prefix, &res));
  REQUIRE(res.route == 9);

  BENCHMARK("prefix+host, 10 routes") { return small->Match(prefix, &res); };
  BENCHMARK("prefix+host, 5000 routes") { return large->Match(prefix, &res); };
  BENCHMARK("regex with capture, 10 routes") { return small->Match(regex, &res); };
  BENCHMARK("regex with capture, 5000 routes") { return large->Match(regex, &res); };
  BENCHMARK("catch-all fallback, 10 routes") { return small->Match(miss, &res); };
  BENCHMARK("catch-all fallback, 5000 routes") { return large->Match(miss, &res); };
}

}  // namespace
}  // namespace sluice::router

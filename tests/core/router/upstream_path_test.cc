// SPDX-License-Identifier: Apache-2.0
// BuildUpstreamPath against every row of reference/kong.md §2.5 and the §2.4 normalisation
// examples, end to end through NormalizePath and Match where the row needs a match.
#include <string>

#include <catch2/catch.hpp>

#include "core/http/path.h"
#include "core/router/router.h"
#include "tests/core/router/route_builder.h"

namespace sluice::router {
namespace {

struct Row {
  const char* service_path;  // nullptr: the service has no path
  const char* route_path;    // nullptr: the route has no paths (matched on host)
  bool strip_path;
  const char* request;
  const char* upstream;
};

// Routes `request` through a one-route table (so matched_prefix comes from Match), then builds
// the upstream path for v0.
std::string Upstream(const Row& row, const char* path_handling = "v0") {
  testing::Table t;
  testing::RouteBuilder rb("r");
  rb.Hosts({"example.com"});
  if (row.route_path != nullptr) {
    rb.Paths({row.route_path});
  }
  t.Add(rb);
  t.Compile();
  testing::Request req;
  std::string normalised;
  REQUIRE(http::NormalizePath(row.request, &normalised));
  req.path = normalised;
  MatchResult res;
  REQUIRE(t.Match(req, &res) == "r");
  std::string out;
  BuildUpstreamPath(row.service_path ? row.service_path : "", row.strip_path, path_handling,
                    req.path, res.matched_prefix, &out);
  return out;
}

TEST_CASE("upstream path: v0 follows Kong's table row by row", "[router]") {
  // clang-format off
  const Row rows[] = {
      {"/",         "/route",  true,  "/route",     "/"},
      {"/",         "/route",  true,  "/route/",    "/"},
      {"/",         "/route",  true,  "/routereq",  "/req"},
      {"/",         "/route/", true,  "/route/req", "/req"},
      {"/",         "/route",  false, "/routereq",  "/routereq"},
      {"/srv",      "/rou",    false, "/roureq",    "/srv/roureq"},
      {"/srv",      "/rou",    true,  "/roureq",    "/srv/req"},
      {"/srv/",     "/rou",    true,  "/rou",       "/srv"},
      {"/service",  "/route",  true,  "/route",     "/service"},
      {"/service",  "/route",  true,  "/route/",    "/service/"},
      {"/service",  "/route",  false, "/route/",    "/service/route/"},
      {"/service/", "/route",  true,  "/route",     "/service"},
      {"/service/", "/route",  true,  "/route/",    "/service/"},
      {"/service",  nullptr,   true,  "/",          "/service"},
      {"/service",  nullptr,   false, "/",          "/service"},
      {"/service",  nullptr,   true,  "/route/",    "/service/route/"},
      {"/service",  nullptr,   false, "/route/",    "/service/route/"},
      {"/service/", nullptr,   true,  "/",          "/service/"},
      {"/service/", nullptr,   false, "/",          "/service/"},
  };
  // clang-format on
  for (const Row& row : rows) {
    INFO("service " << (row.service_path ? row.service_path : "(none)") << ", route "
                    << (row.route_path ? row.route_path : "(none)") << ", strip " << row.strip_path
                    << ", request " << row.request);
    CHECK(Upstream(row) == row.upstream);
  }
}

TEST_CASE("upstream path: dot segments after the prefix are dropped as in Kong", "[router]") {
  for (const char* request :
       {"/route./req", "/route%2E/req", "/route%2e/req", "/route../req", "/route%2E%2E/req"}) {
    INFO(request);
    CHECK(Upstream({"/service", "/route", true, request, ""}) == "/service/req");
  }
  CHECK(Upstream({"/service", "/route", true, "/route.", ""}) == "/service");
  CHECK(Upstream({"/service", "/route", true, "/route..", ""}) == "/service");
  // Without strip_path the path is kept as normalised.
  CHECK(Upstream({"/service", "/route", false, "/route%2E/req", ""}) == "/service/route./req");
}

TEST_CASE("upstream path: a missing service path counts as /", "[router]") {
  CHECK(Upstream({nullptr, "/route", true, "/route/a", ""}) == "/a");
  CHECK(Upstream({nullptr, "/route", false, "/route/a", ""}) == "/route/a");
  CHECK(Upstream({nullptr, nullptr, true, "/", ""}) == "/");
}

TEST_CASE("upstream path: regex routes strip the whole match", "[router]") {
  CHECK(Upstream({"/svc", "~/users/\\d+", true, "/users/42/orders", ""}) == "/svc/orders");
  CHECK(Upstream({"/svc", "~/users/\\d+", true, "/users/42", ""}) == "/svc");
  CHECK(Upstream({"/svc/", "~/users/\\d+", true, "/users/42/", ""}) == "/svc/");
  CHECK(Upstream({"/svc", "~/users/\\d+", false, "/users/42", ""}) == "/svc/users/42");
}

TEST_CASE("upstream path: template routes strip the matched segments", "[router]") {
  CHECK(Upstream({"/svc", "/users/{id}", true, "/users/42/orders", ""}) == "/svc/orders");
  CHECK(Upstream({"/svc", "/files/{p+}", true, "/files/a/b", ""}) == "/svc");
}

TEST_CASE("upstream path: v1 is plain concatenation", "[router]") {
  CHECK(Upstream({"/srv", "/rou", false, "/roureq", ""}, "v1") == "/srvroureq");
  CHECK(Upstream({"/srv", "/rou", true, "/roureq", ""}, "v1") == "/srvreq");
  CHECK(Upstream({"/srv/", "/rou", true, "/rou/req", ""}, "v1") == "/srv/req");
  CHECK(Upstream({"/srv/", "/rou", false, "/rou/req", ""}, "v1") == "/srv/rou/req");
  CHECK(Upstream({"/srv", "/rou", true, "/rou", ""}, "v1") == "/srv");
}

TEST_CASE("upstream path: works on plain views without a match", "[router]") {
  std::string out = "stale";
  BuildUpstreamPath("/svc", true, "v0", "/api/x", "/api", &out);
  CHECK(out == "/svc/x");
  BuildUpstreamPath("/svc", true, "v0", "/api/x", "", &out);
  CHECK(out == "/svc/api/x");
  // A prefix that is not a prefix of the path strips nothing.
  BuildUpstreamPath("/svc", true, "v0", "/api/x", "/other", &out);
  CHECK(out == "/svc/api/x");
  BuildUpstreamPath("", false, "v0", "", "", &out);
  CHECK(out == "/");
}

}  // namespace
}  // namespace sluice::router

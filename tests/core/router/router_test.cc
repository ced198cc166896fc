// SPDX-License-Identifier: Apache-2.0
// Route matching semantics (reference/kong.md §2.2): hosts, ports, methods, headers, paths,
// regex captures, templates, exclusions, compile errors, and a large table.
#include "core/router/router.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include <catch2/catch.hpp>

#include "tests/core/router/route_builder.h"

namespace sluice::router {
namespace {

using testing::Request;
using testing::RouteBuilder;
using testing::Table;

TEST_CASE("router: a prefix path is a character prefix of the path", "[router]") {
  Table t;
  t.Add(RouteBuilder("foo").Paths({"/foo"}));
  t.Compile();
  CHECK(t.Match("example.com", "/foo") == "foo");
  CHECK(t.Match("example.com", "/foobar") == "foo");
  CHECK(t.Match("example.com", "/foo/bar") == "foo");
  CHECK(t.Match("example.com", "/fo") == "");
  CHECK(t.Match("example.com", "/Foo") == "");
  MatchResult res;
  Request req;
  req.path = "/foobar";
  REQUIRE(t.Match(req, &res) == "foo");
  CHECK(res.matched_prefix == "/foo");
  CHECK(res.matched_prefix.data() == req.path.data());
  CHECK(res.captures.empty());
}

TEST_CASE("router: no match returns false and leaves the result alone", "[router]") {
  Table t;
  t.Add(RouteBuilder("api").Paths({"/api"}).Hosts({"api.example.com"}).Methods({"GET"}));
  const Router& r = t.Compile();
  MatchResult res;
  res.route = 77;
  Request req;
  req.host = "api.example.com";
  req.path = "/other";
  CHECK_FALSE(r.Match(req.View(), &res));
  CHECK(res.route == 77);
  CHECK(t.Match("www.example.com", "/api") == "");
}

TEST_CASE("router: an empty table matches nothing", "[router]") {
  Table t;
  t.Compile();
  CHECK(t.Match("example.com", "/") == "");
}

TEST_CASE("router: a route without paths matches any path", "[router]") {
  Table t;
  t.Add(RouteBuilder("host-only").Hosts({"example.com"}));
  t.Compile();
  MatchResult res;
  Request req;
  req.path = "/anything/at/all";
  REQUIRE(t.Match(req, &res) == "host-only");
  CHECK(res.matched_prefix.empty());
}

TEST_CASE("router: methods match exactly", "[router]") {
  Table t;
  t.Add(RouteBuilder("get").Methods({"GET", "POST"}).Paths({"/"}));
  t.Compile();
  Request req;
  for (const char* m : {"GET", "POST"}) {
    req.method = m;
    CHECK(t.Match(req) == "get");
  }
  for (const char* m : {"HEAD", "get", "PUT", ""}) {
    req.method = m;
    CHECK(t.Match(req) == "");
  }
}

TEST_CASE("router: exact hosts compare without port and case-insensitively", "[router]") {
  Table t;
  t.Add(RouteBuilder("api").Hosts({"api.example.com", "Other.Example.COM"}));
  t.Compile();
  CHECK(t.Match("api.example.com", "/") == "api");
  CHECK(t.Match("api.example.com:8443", "/") == "api");
  CHECK(t.Match("API.Example.Com", "/") == "api");
  CHECK(t.Match("other.example.com", "/") == "api");
  CHECK(t.Match("x.api.example.com", "/") == "");
  CHECK(t.Match("api.example.co", "/") == "");
  CHECK(t.Match("", "/") == "");
}

TEST_CASE("router: a leading wildcard host matches any depth but not the apex", "[router]") {
  Table t;
  t.Add(RouteBuilder("wild").Hosts({"*.example.com"}));
  t.Compile();
  CHECK(t.Match("a.example.com", "/") == "wild");
  CHECK(t.Match("a.b.c.example.com", "/") == "wild");
  CHECK(t.Match("A.EXAMPLE.COM:99", "/") == "wild");
  CHECK(t.Match("example.com", "/") == "");
  CHECK(t.Match("aexample.com", "/") == "");
  CHECK(t.Match("a.example.com.evil", "/") == "");
}

TEST_CASE("router: a trailing wildcard host is a prefix match", "[router]") {
  Table t;
  t.Add(RouteBuilder("wild").Hosts({"example.*"}));
  t.Compile();
  CHECK(t.Match("example.com", "/") == "wild");
  CHECK(t.Match("example.co.uk", "/") == "wild");
  CHECK(t.Match("Example.org:8000", "/") == "wild");
  CHECK(t.Match("example", "/") == "");
  CHECK(t.Match("www.example.com", "/") == "");
  CHECK(t.Match("examplecom", "/") == "");
}

TEST_CASE("router: a host with a port also requires the port", "[router]") {
  Table t;
  t.Add(RouteBuilder("p8080").Hosts({"api.example.com:8080"}).Paths({"/"}));
  t.Add(RouteBuilder("wild9000").Hosts({"*.example.org:9000"}).Paths({"/"}));
  t.Add(RouteBuilder("any-port").Hosts({"api.example.com"}).Paths({"/any"}));
  t.Compile();
  Request req;
  req.host = "api.example.com:8080";
  CHECK(t.Match(req) == "p8080");
  req.host = "api.example.com:8081";
  CHECK(t.Match(req) == "");
  SECTION("the listener port counts when the Host header has none") {
    req.host = "api.example.com";
    req.listener_port = 8080;
    CHECK(t.Match(req) == "p8080");
    req.listener_port = 8000;
    CHECK(t.Match(req) == "");
  }
  SECTION("the Host header port wins over the listener port") {
    req.host = "api.example.com:8000";
    req.listener_port = 8080;
    CHECK(t.Match(req) == "");
  }
  SECTION("wildcards with ports") {
    req.host = "a.example.org:9000";
    CHECK(t.Match(req) == "wild9000");
    req.host = "a.example.org";
    req.listener_port = 9000;
    CHECK(t.Match(req) == "wild9000");
    req.listener_port = 80;
    CHECK(t.Match(req) == "");
  }
  SECTION("a port-less entry of the same host accepts any port") {
    req.host = "api.example.com:1234";
    req.path = "/any";
    CHECK(t.Match(req) == "any-port");
  }
}

TEST_CASE("router: IPv6 literal hosts", "[router]") {
  Table t;
  t.Add(RouteBuilder("v6").Hosts({"[::1]"}));
  t.Add(RouteBuilder("v6port").Hosts({"[::2]:8080"}));
  t.Compile();
  CHECK(t.Match("[::1]", "/") == "v6");
  CHECK(t.Match("[::1]:8000", "/") == "v6");
  CHECK(t.Match("[::2]:8080", "/") == "v6port");
  CHECK(t.Match("[::2]:8081", "/") == "");
}

TEST_CASE("router: a host route beats a host-less route only by priority", "[router]") {
  Table t;
  t.Add(RouteBuilder("any-host").Paths({"/x"}));
  t.Add(RouteBuilder("with-host").Hosts({"example.com"}).Paths({"/"}));
  t.Compile();
  CHECK(t.Match("example.com", "/x") == "with-host");
  CHECK(t.Match("other.com", "/x") == "any-host");
}

TEST_CASE("router: header names and values compare case-insensitively", "[router]") {
  Table t;
  t.Add(RouteBuilder("h").Header("x-version", {"v1", "V2"}).Paths({"/"}));
  t.Compile();
  Request req;
  CHECK(t.Match(req) == "");
  req.Header("X-Version", "V1");
  CHECK(t.Match(req) == "h");
  Request v2;
  v2.Header("x-VERSION", "v2");
  CHECK(t.Match(v2) == "h");
  Request v3;
  v3.Header("x-version", "v3");
  CHECK(t.Match(v3) == "");
}

TEST_CASE("router: any value of a repeated header may match", "[router]") {
  Table t;
  t.Add(RouteBuilder("h").Header("x-tag", {"blue"}).Paths({"/"}));
  t.Compile();
  Request req;
  req.Header("x-tag", "red").Header("X-Other", "blue").Header("X-Tag", "Blue");
  CHECK(t.Match(req) == "h");
}

TEST_CASE("router: every configured header must be present", "[router]") {
  Table t;
  t.Add(RouteBuilder("two").Header("x-a", {"1"}).Header("x-b", {"2"}));
  t.Compile();
  Request only_a;
  only_a.Header("x-a", "1");
  CHECK(t.Match(only_a) == "");
  Request both;
  both.Header("x-b", "2").Header("x-a", "1");
  CHECK(t.Match(both) == "two");
  RequestView no_headers = both.View();
  no_headers.headers = nullptr;
  MatchResult res;
  CHECK_FALSE(t.Compile().Match(no_headers, &res));
}

TEST_CASE("router: a ~* header value is a case-insensitive regex search", "[router]") {
  Table t;
  t.Add(RouteBuilder("re").Header("authorization", {"~*^Bearer\\s\\S+$"}));
  t.Add(RouteBuilder("search").Header("user-agent", {"~*curl/\\d"}));
  // PCRE named groups are accepted, as the loader accepted them.
  t.Add(RouteBuilder("named").Header("x-build", {"~*^(?<major>\\d+)\\.x$"}));
  t.Compile();
  Request bearer;
  bearer.Header("Authorization", "bearer abc");
  CHECK(t.Match(bearer) == "re");
  Request basic;
  basic.Header("Authorization", "Basic abc");
  CHECK(t.Match(basic) == "");
  Request spaces;
  spaces.Header("Authorization", "Bearer a b");
  CHECK(t.Match(spaces) == "");
  // Unanchored: the pattern may match anywhere in the value.
  Request ua;
  ua.Header("User-Agent", "Mozilla (compatible) CURL/8.1");
  CHECK(t.Match(ua) == "search");
  Request build;
  build.Header("X-Build", "12.X");
  CHECK(t.Match(build) == "named");
}

TEST_CASE("router: a regex path is anchored at the start only", "[router]") {
  Table t;
  t.Add(RouteBuilder("re").Paths({"~/items/\\d+"}));
  t.Compile();
  MatchResult res;
  Request req;
  req.path = "/items/42/details";
  REQUIRE(t.Match(req, &res) == "re");
  CHECK(res.matched_prefix == "/items/42");
  CHECK(t.Match("example.com", "/v1/items/42") == "");
  CHECK(t.Match("example.com", "/items/x") == "");
}

TEST_CASE("router: regex captures are returned numbered and named", "[router]") {
  Table t;
  t.Add(RouteBuilder("re").Paths({"~/users/(?<user>\\d+)/(\\w+)(/extra)?"}));
  t.Compile();
  MatchResult res;
  Request req;
  req.path = "/users/42/orders/7";
  REQUIRE(t.Match(req, &res) == "re");
  CHECK(res.matched_prefix == "/users/42/orders");
  REQUIRE(res.captures.size() == 3);
  CHECK(res.captures[0].name == "user");
  CHECK(res.captures[0].value == "42");
  CHECK(res.captures[1].name.empty());
  CHECK(res.captures[1].value == "orders");
  CHECK(res.captures[2].name.empty());
  CHECK(res.captures[2].value.empty());
  // Values are views into the request path.
  CHECK(res.captures[0].value.data() == req.path.data() + 7);
}

TEST_CASE("router: at most 16 captures are returned", "[router]") {
  std::string re = "~/";
  for (int i = 0; i < 20; ++i) {
    re += "(.)";
  }
  Table t;
  config::Route r = RouteBuilder("many").Build();
  r.paths.push_back(testing::MakePath(re));
  t.config().routes.push_back(r);
  t.Compile();
  MatchResult res;
  Request req;
  req.path = "/abcdefghijklmnopqrstuvwxyz";
  REQUIRE(t.Match(req, &res) == "many");
  REQUIRE(res.captures.size() == 16);
  CHECK(res.captures[15].value == "p");
  CHECK(res.matched_prefix == "/abcdefghijklmnopqrst");
}

TEST_CASE("router: a regex route tries its paths in order", "[router]") {
  Table t;
  t.Add(RouteBuilder("re").Paths({"~/a/(?<x>\\d+)", "~/a/(?<y>\\w+)"}));
  t.Compile();
  MatchResult res;
  Request req;
  req.path = "/a/12";
  REQUIRE(t.Match(req, &res) == "re");
  REQUIRE(res.captures.size() == 1);
  CHECK(res.captures[0].name == "x");
  req.path = "/a/bc";
  REQUIRE(t.Match(req, &res) == "re");
  REQUIRE(res.captures.size() == 1);
  CHECK(res.captures[0].name == "y");
  CHECK(res.captures[0].value == "bc");
}

TEST_CASE("router: templates match whole segments and capture them", "[router]") {
  Table t;
  t.Add(RouteBuilder("colon").Paths({"/api/users/:id"}));
  t.Add(RouteBuilder("brace").Paths({"/users/{id}"}));
  t.Add(RouteBuilder("rest").Paths({"/files/{proxy+}"}));
  t.Compile();
  MatchResult res;
  Request req;

  req.path = "/api/users/42";
  REQUIRE(t.Match(req, &res) == "colon");
  CHECK(res.matched_prefix == "/api/users/42");
  REQUIRE(res.captures.size() == 1);
  CHECK(res.captures[0].name == "id");
  CHECK(res.captures[0].value == "42");

  req.path = "/users/42/orders";
  REQUIRE(t.Match(req, &res) == "brace");
  CHECK(res.matched_prefix == "/users/42");
  REQUIRE(res.captures.size() == 1);
  CHECK(res.captures[0].value == "42");

  req.path = "/files/a/b/c.txt";
  REQUIRE(t.Match(req, &res) == "rest");
  CHECK(res.matched_prefix == "/files/a/b/c.txt");
  REQUIRE(res.captures.size() == 1);
  CHECK(res.captures[0].name == "proxy");
  CHECK(res.captures[0].value == "a/b/c.txt");

  CHECK(t.Match("example.com", "/users") == "");
  CHECK(t.Match("example.com", "/users/") == "");
  CHECK(t.Match("example.com", "/users42") == "");
  CHECK(t.Match("example.com", "/usersx/42") == "");
  CHECK(t.Match("example.com", "/files/") == "");
  CHECK(t.Match("example.com", "/files") == "");
  CHECK(t.Match("example.com", "/api/users/") == "");
}

TEST_CASE("router: routes of a disabled service are left out", "[router]") {
  Table t;
  config::Service off;
  off.name = "off";
  off.enabled = false;
  t.config().services.push_back(off);
  t.Add(RouteBuilder("disabled").Paths({"/api/v1"}).Service(1));
  t.Add(RouteBuilder("fallback").Paths({"/api"}));
  t.Add(RouteBuilder("no-service").Paths({"/orphan"}).Service(-1));
  t.Compile();
  CHECK(t.Match("example.com", "/api/v1") == "fallback");
  MatchResult res;
  Request req;
  req.path = "/orphan";
  REQUIRE(t.Match(req, &res) == "no-service");
  CHECK(res.service == -1);
}

TEST_CASE("router: stream routes are not HTTP routes", "[router]") {
  Table t;
  t.Add(RouteBuilder("tcp").Protocols({"tcp"}).Paths({"/"}));
  t.Add(RouteBuilder("grpc").Protocols({"grpc"}).Paths({"/g"}));
  t.Compile();
  CHECK(t.Match("example.com", "/") == "");
  CHECK(t.Match("example.com", "/g") == "grpc");
}

TEST_CASE("router: compile rejects what the loader should have rejected", "[router]") {
  auto compile_error = [](const RouteBuilder& r) {
    Table t;
    t.Add(r);
    t.config().source_file = "kong.yaml";
    auto result = Router::Compile(t.config());
    REQUIRE_FALSE(result.ok());
    return std::string(result.status().message());
  };
  CHECK(compile_error(RouteBuilder("bad").Paths({"~/a("})) ==
        "route 'bad': invalid regex '/a(': missing ): /a(");
  CHECK(compile_error(RouteBuilder("bad").Hosts({"a.*.com"})) ==
        "route 'bad': host 'a.*.com': a wildcard must be the whole leftmost or rightmost label");
  CHECK(compile_error(RouteBuilder("bad").Hosts({"a.com:x"})) ==
        "route 'bad': host 'a.com:x': invalid port");
  CHECK(compile_error(RouteBuilder("bad").Paths({"/a/{b+}/c"})) ==
        "route 'bad': path template '/a/{b+}/c': greedy parameter '{b+}' must be the last "
        "segment");
  CHECK(compile_error(RouteBuilder("bad").Header("x-a", {"~*("})) ==
        "route 'bad': headers.x-a: invalid regex '(': missing ): (");
  CHECK(compile_error(RouteBuilder("bad").Service(5)) == "route 'bad': service index out of range");

  Table marked;
  marked.config().source_file = "kong.yaml";
  config::Route r = RouteBuilder("").Build();
  config::RoutePath p = testing::MakePath("~[");
  p.mark = {12, 9};
  r.paths.push_back(p);
  marked.config().routes.push_back(r);
  auto result = Router::Compile(marked.config());
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() == "kong.yaml:12:9: route #0: invalid regex '[': missing ]: [");
}

TEST_CASE("router: 5000 prefix routes give the right answers", "[router]") {
  Table t;
  for (int i = 0; i < 5000; ++i) {
    std::string path = absl::StrCat("/svc", i);
    std::string name = absl::StrCat("r", i);
    config::Route r = RouteBuilder(name).Build();
    r.paths.push_back(testing::MakePath(path));
    if (i % 2 == 1) {
      r.hosts.push_back(absl::StrCat("h", i, ".example.com"));
    }
    if (i % 5 == 0) {
      r.paths.push_back(testing::MakePath(absl::StrCat("/alt", i, "/x")));
    }
    t.config().routes.push_back(r);
  }
  t.Add(RouteBuilder("catch-all").Paths({"/"}));
  t.Add(RouteBuilder("wild").Hosts({"*.wild.example.com"}).Paths({"/"}));
  t.Compile();
  for (int i = 0; i < 5000; i += 7) {
    std::string host = absl::StrCat("h", i, ".example.com");
    std::string want = absl::StrCat("r", i);
    INFO(i);
    // "/svc12" is a character prefix of "/svc123": the longest one must win.
    CHECK(t.Match(host, absl::StrCat("/svc", i, "/deep/path")) == want);
    if (i % 2 == 1) {
      CHECK(t.Match("other.example.com", absl::StrCat("/svc", i)) != want);
    }
    if (i % 5 == 0) {
      CHECK(t.Match(host, absl::StrCat("/alt", i, "/x/y")) == want);
    }
  }
  CHECK(t.Match("x.example.com", "/svc1") == "catch-all");
  CHECK(t.Match("x.example.com", "/svc10/a") == "r10");
  CHECK(t.Match("x.example.com", "/svc3/a") == "catch-all");
  CHECK(t.Match("h3.example.com", "/svc3/a") == "r3");
  CHECK(t.Match("h3.example.com", "/svc31") == "r3");
  CHECK(t.Match("x.wild.example.com", "/svc3") == "wild");
  // Hosts + paths outweigh a host-less longer prefix.
  CHECK(t.Match("x.wild.example.com", "/svc4") == "wild");
  CHECK(t.Match("x.example.com", "/nothing") == "catch-all");
}

TEST_CASE("router: Match is safe from several threads at once", "[router]") {
  Table t;
  for (int i = 0; i < 200; ++i) {
    t.Add(RouteBuilder(absl::StrCat("p", i)).Paths({"/p"}).Hosts({"a.example.com"}));
    config::Route r = RouteBuilder(absl::StrCat("re", i)).Build();
    r.paths.push_back(testing::MakePath(absl::StrCat("~/re", i, "/(?<id>\\d+)$")));
    t.config().routes.push_back(r);
  }
  const Router& router = t.Compile();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&router, &failures, w] {
      for (int n = 0; n < 500; ++n) {
        int i = (n * 7 + w) % 200;
        std::string path = absl::StrCat("/re", i, "/", n);
        RequestView v;
        v.method = "GET";
        v.host = "b.example.com";
        v.path = path;
        MatchResult res;
        if (!router.Match(v, &res) || res.route != 2 * i + 1 || res.captures.size() != 1 ||
            res.captures[0].value != absl::StrCat(n)) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(failures.load() == 0);
}

}  // namespace
}  // namespace sluice::router

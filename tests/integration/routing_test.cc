// SPDX-License-Identifier: Apache-2.0
// Routing end to end (reference/kong.md §2.2-2.6): regex and template paths, hosts (exact and
// wildcard), methods, headers, priority between routes, strip_path and the service path, path
// normalisation and preserve_host. Every service points at one sluice-echo under its own path
// (`${E}/NAME`), so the path the echo reports names the route that matched.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: regex
    url: ${E}/regex
    routes:
      - name: user-by-id
        paths: ['~/users/(?<id>\d+)$']
        strip_path: false
  - name: tmpl-colon
    url: ${E}/tmpl-colon
    routes:
      - name: tmpl-colon
        paths: ["/api/users/:id"]
        strip_path: false
  - name: tmpl-brace
    url: ${E}/tmpl-brace
    routes:
      - name: tmpl-brace
        paths: ["/items/{id}"]
        strip_path: true
  - name: tmpl-rest
    url: ${E}/tmpl-rest
    routes:
      - name: tmpl-rest
        paths: ["/files/{path+}"]
        strip_path: false
  - name: host-exact
    url: ${E}/host-exact
    routes:
      - name: host-exact
        hosts: ["api.example.com"]
  - name: host-wild
    url: ${E}/host-wild
    routes:
      - name: host-wild
        hosts: ["*.example.com"]
  - name: host-prefix
    url: ${E}/host-prefix
    routes:
      - name: host-prefix
        hosts: ["shop.*"]
  - name: m-read
    url: ${E}/m-read
    routes:
      - name: m-read
        paths: ["/m"]
        methods: [GET]
        strip_path: false
  - name: m-write
    url: ${E}/m-write
    routes:
      - name: m-write
        paths: ["/m"]
        methods: [POST, PUT]
        strip_path: false
  - name: hdr-any
    url: ${E}/hdr-any
    routes:
      - name: hdr-any
        paths: ["/hdr"]
        strip_path: false
  - name: hdr-v2
    url: ${E}/hdr-v2
    routes:
      - name: hdr-v2
        paths: ["/hdr"]
        headers:
          x-version: ["v2", '~*^beta-\d+$']
        strip_path: false
  - name: prio-paths
    url: ${E}/prio-paths
    routes:
      - name: prio-paths
        paths: ["/prio"]
        strip_path: false
  - name: prio-deeper
    url: ${E}/prio-deeper
    routes:
      - name: prio-deeper
        paths: ["/prio/deeper"]
        strip_path: false
  - name: prio-host
    url: ${E}/prio-host
    routes:
      - name: prio-host
        hosts: ["prio.test"]
        paths: ["/prio"]
        strip_path: false
  - name: rx-prefix
    url: ${E}/rx-prefix
    routes:
      - name: rx-prefix
        paths: ["/rx"]
        strip_path: false
  - name: rx-regex
    url: ${E}/rx-regex
    routes:
      - name: rx-regex
        paths: ['~/rx/\d+']
        strip_path: false
  - name: root
    url: ${E}
    routes:
      - name: rt
        paths: ["/rt"]
      - name: rts
        paths: ["/rts/"]
        strip_path: true
      - name: nrt
        paths: ["/nrt"]
        strip_path: false
      - name: ph
        paths: ["/ph"]
        preserve_host: true
      - name: nph
        paths: ["/nph"]
        preserve_host: false
  - name: srv
    url: ${E}/srv
    routes:
      - name: rou
        paths: ["/rou"]
        strip_path: true
      - name: nrou
        paths: ["/nrou"]
        strip_path: false
  - name: srv-slash
    url: ${E}/srv/
    routes:
      - name: sl
        paths: ["/sl"]
        strip_path: true
  - name: svc-host
    url: ${E}/service
    routes:
      - name: svc-host
        hosts: ["svc.test"]
  - name: svc-slash-host
    url: ${E}/service/
    routes:
      - name: svc-slash-host
        hosts: ["svcslash.test"]
  - name: pub
    url: ${E}/pub-svc
    routes:
      - name: pub
        paths: ["/pub"]
        strip_path: false
  - name: admin
    url: ${E}/admin-svc
    routes:
      - name: admin
        paths: ["/admin"]
        strip_path: false
)";

// One echo upstream and the gateway in front of it.
struct Gateway {
  Gateway() : sluice(Substitute(kConfig, {{"E", echo.url()}})) {}

  EchoServer echo{"echo"};
  Sluice sluice;
};

// What one request came to: "PATH" or "PATH?QUERY" as the upstream saw it for a proxied 200,
// "HTTP N" for anything else (a gateway 404, ...), or the client error when no response came.
std::string Describe(const Response& r) {
  if (!r.complete) {
    return "no response: " + r.error;
  }
  if (r.status != 200) {
    return "HTTP " + std::to_string(r.status);
  }
  const nlohmann::json j = r.Json();
  if (!j.is_object() || !j.contains("path")) {
    return "HTTP 200 but not echo JSON: " + r.body.substr(0, 200);
  }
  std::string out = j["path"].get<std::string>();
  const std::string query = j.value("query", "");
  if (!query.empty()) {
    out += "?" + query;
  }
  return out;
}

Response Send(Gateway& gw, std::string_view method, std::string_view target,
              std::string_view host = "localhost", std::string_view extra = "") {
  RawConn conn(gw.sluice.port());
  if (!conn.Send(Request(method, target, host, extra))) {
    Response r;
    r.error = "send failed";
    return r;
  }
  return conn.ReadResponse(method == "HEAD");
}

std::string Route(Gateway& gw, std::string_view target, std::string_view host = "localhost",
                  std::string_view extra = "") {
  return Describe(Send(gw, "GET", target, host, extra));
}

struct Row {
  const char* target;
  const char* host;
  const char* expected;  // Describe() of the answer
};

// Runs every row against `gw`, reporting each mismatch with its request.
void CheckRows(Gateway& gw, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    INFO("GET " << row.target << " Host: " << row.host);
    CHECK(Route(gw, row.target, row.host) == row.expected);
  }
}

TEST_CASE("routing: a regex path with a named group is anchored at both ends",
          "[integration][routing]") {
  Gateway gw;
  CheckRows(gw, {
                    {"/users/42", "localhost", "/regex/users/42"},
                    {"/users/42?x=1", "localhost", "/regex/users/42?x=1"},  // query not matched
                    {"/users/abc", "localhost", "HTTP 404"},
                    {"/users/", "localhost", "HTTP 404"},
                    {"/users/42/", "localhost", "HTTP 404"},    // `$` ends the match
                    {"/v1/users/42", "localhost", "HTTP 404"},  // `^` is implied
                });
}

TEST_CASE("routing: template paths match whole segments", "[integration][routing]") {
  Gateway gw;
  CheckRows(gw, {
                    // `:id` takes one non-empty segment.
                    {"/api/users/7", "localhost", "/tmpl-colon/api/users/7"},
                    {"/api/users/7/orders", "localhost", "/tmpl-colon/api/users/7/orders"},
                    {"/api/users", "localhost", "HTTP 404"},
                    {"/api/users/", "localhost", "HTTP 404"},
                    {"/api/usersX/7", "localhost", "HTTP 404"},
                    // `{id}` likewise; strip_path removes the whole matched text.
                    {"/items/5", "localhost", "/tmpl-brace"},
                    {"/items/5/sub", "localhost", "/tmpl-brace/sub"},
                    {"/items/", "localhost", "HTTP 404"},
                    {"/itemsX/5", "localhost", "HTTP 404"},
                    // `{path+}` takes the non-empty rest, slashes included.
                    {"/files/a/b/c.txt", "localhost", "/tmpl-rest/files/a/b/c.txt"},
                    {"/files/x", "localhost", "/tmpl-rest/files/x"},
                    {"/files/", "localhost", "HTTP 404"},
                    {"/files", "localhost", "HTTP 404"},
                });
}

TEST_CASE("routing: hosts match exactly or by a leftmost/rightmost wildcard",
          "[integration][routing]") {
  Gateway gw;
  CheckRows(gw, {
                    // A plain host outranks a wildcard that also matches.
                    {"/zz-none", "api.example.com", "/host-exact/zz-none"},
                    {"/zz-none", "api.example.com:8080", "/host-exact/zz-none"},
                    {"/zz-none", "a.example.com", "/host-wild/zz-none"},
                    {"/zz-none", "a.b.example.com", "/host-wild/zz-none"},  // any depth
                    {"/zz-none", "a.example.com:1234", "/host-wild/zz-none"},
                    {"/zz-none", "shop.example.net", "/host-prefix/zz-none"},
                    // `*.example.com` does not match example.com itself.
                    {"/zz-none", "example.com", "HTTP 404"},
                    {"/zz-none", "example.com.evil.test", "HTTP 404"},
                    {"/zz-none", "nomatch.test", "HTTP 404"},
                    {"/zz-none", "myshop.test", "HTTP 404"},
                });
  CHECK(gw.echo.GetStats().requests == 6);
}

TEST_CASE("routing: methods restrict a route, and HEAD does not match GET",
          "[integration][routing]") {
  Gateway gw;
  for (const auto& [method, expected] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/m-read/m"},
           {"POST", "/m-write/m"},
           {"PUT", "/m-write/m"},
           {"DELETE", "HTTP 404"},
           {"PATCH", "HTTP 404"},
       }) {
    INFO(method << " /m");
    CHECK(Describe(Send(gw, method, "/m")) == expected);
  }
  SECTION("a 404 to HEAD has no body, so the connection stays usable") {
    RawConn conn(gw.sluice.port());
    REQUIRE(conn.Send(Request("HEAD", "/m")));
    const Response head = conn.ReadResponse(/*head_request=*/true);
    INFO("HEAD: " << head.Describe());
    CHECK(head.status == 404);
    // RFC 9110 §9.3.2: no content in a response to HEAD. Stray body bytes would be read as the
    // start of the next response.
    REQUIRE(conn.Send(Request("GET", "/m")));
    const Response next = conn.ReadResponse();
    INFO("next: " << next.Describe());
    CHECK(Describe(next) == "/m-read/m");
  }
}

TEST_CASE("routing: a header condition selects a route", "[integration][routing]") {
  Gateway gw;

  struct HeaderRow {
    const char* extra;
    const char* expected;
  };

  for (const HeaderRow& row : std::vector<HeaderRow>{
           {"X-Version: v2\r\n", "/hdr-v2/hdr"},
           {"x-version: V2\r\n", "/hdr-v2/hdr"},       // values compare case-insensitively
           {"X-Version: beta-12\r\n", "/hdr-v2/hdr"},  // `~*` regex value
           {"X-Version: Beta-7\r\n", "/hdr-v2/hdr"},   // ... matched case-insensitively
           {"X-Version: v1\r\nX-Version: v2\r\n", "/hdr-v2/hdr"},  // any repeated value
           {"X-Version: v1\r\n", "/hdr-any/hdr"},
           {"X-Version: v2x\r\n", "/hdr-any/hdr"},  // a plain value is not a substring
           {"X-Version: beta-x\r\n", "/hdr-any/hdr"},
           {"", "/hdr-any/hdr"},
       }) {
    INFO("GET /hdr with " << row.extra);
    CHECK(Route(gw, "/hdr", "localhost", row.extra) == row.expected);
  }
}

TEST_CASE("routing: priority follows Kong (match weight, regex bit, prefix length)",
          "[integration][routing]") {
  Gateway gw;
  CheckRows(gw, {
                    {"/prio/x", "localhost", "/prio-paths/prio/x"},
                    // hosts+paths (weight 2) beats paths only (weight 1) ...
                    {"/prio/x", "prio.test", "/prio-host/prio/x"},
                    // ... even when the paths-only route has the longer prefix.
                    {"/prio/deeper/x", "prio.test", "/prio-host/prio/deeper/x"},
                    // With equal weight, the longer prefix wins.
                    {"/prio/deeper/x", "localhost", "/prio-deeper/prio/deeper/x"},
                    // With equal weight, a regex path outranks a prefix path.
                    {"/rx/5", "localhost", "/rx-regex/rx/5"},
                    {"/rx/a", "localhost", "/rx-prefix/rx/a"},
                });
}

TEST_CASE("routing: strip_path and the service path build the upstream path",
          "[integration][routing]") {
  Gateway gw;
  // Rows of Kong's v0 table (reference/kong.md §2.5).
  CheckRows(gw, {
                    {"/rt", "localhost", "/"},        // service `/`, strip (the default)
                    {"/rt/", "localhost", "/"},       //
                    {"/rtreq", "localhost", "/req"},  //
                    {"/rt/req?a=b", "localhost", "/req?a=b"},
                    {"/rts/req", "localhost", "/req"},           // route `/rts/`
                    {"/nrtreq", "localhost", "/nrtreq"},         // strip_path false
                    {"/nrt/", "localhost", "/nrt/"},             //
                    {"/roureq", "localhost", "/srv/req"},        // service `/srv`
                    {"/rou", "localhost", "/srv"},               //
                    {"/rou/", "localhost", "/srv/"},             //
                    {"/nroureq", "localhost", "/srv/nroureq"},   //
                    {"/sl", "localhost", "/srv"},                // service `/srv/`
                    {"/sl/", "localhost", "/srv/"},              //
                    {"/sl/x", "localhost", "/srv/x"},            //
                    {"/", "svc.test", "/service"},               // no route path
                    {"/route/", "svc.test", "/service/route/"},  //
                    {"/", "svcslash.test", "/service/"},         //
                });
}

TEST_CASE("routing: the path is normalised before matching", "[integration][routing]") {
  Gateway gw;
  const std::string admin = Route(gw, "/admin");
  REQUIRE(admin == "/admin-svc/admin");
  CheckRows(gw, {
                    // Dot segments are resolved: none of these reaches the `/pub` route.
                    {"/pub/../admin", "localhost", "/admin-svc/admin"},
                    {"/pub/%2E%2E/admin", "localhost", "/admin-svc/admin"},
                    {"/pub/%2e%2e/admin", "localhost", "/admin-svc/admin"},
                    {"/pub/.%2E/admin", "localhost", "/admin-svc/admin"},
                    {"/../admin", "localhost", "/admin-svc/admin"},  // never above the root
                    {"/pub/x/../../admin", "localhost", "/admin-svc/admin"},
                    {"/%61dmin", "localhost", "/admin-svc/admin"},  // unreserved, decoded
                    {"/pub/./x", "localhost", "/pub-svc/pub/x"},
                    // An encoded slash is reserved: it stays encoded and is no separator.
                    {"/pub/..%2Fadmin", "localhost", "/pub-svc/pub/..%2Fadmin"},
                    // The query string passes unchanged, dots and escapes included.
                    {"/pub/q?a=1&b=%2F&c=..%2E&d=/../x&e=", "localhost",
                     "/pub-svc/pub/q?a=1&b=%2F&c=..%2E&d=/../x&e="},
                });
}

TEST_CASE("routing: preserve_host decides the Host sent upstream", "[integration][routing]") {
  Gateway gw;
  auto upstream_host = [&](std::string_view target, std::string_view host) {
    const Response r = Send(gw, "GET", target, host);
    INFO(r.Describe());
    REQUIRE(r.status == 200);
    return r.Json()["headers"].value("host", std::string("<none>"));
  };
  CHECK(upstream_host("/ph/x", "client.test:8080") == "client.test:8080");
  CHECK(upstream_host("/ph/x", "client.test") == "client.test");
  CHECK(upstream_host("/nph/x", "client.test") == gw.echo.address());
  CHECK(upstream_host("/rt/x", "client.test") == gw.echo.address());  // false by default
}

}  // namespace
}  // namespace sluice::testing

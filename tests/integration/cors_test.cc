// SPDX-License-Identifier: Apache-2.0
// cors through the real gateway (reference/kong.md §6): preflights answered by the gateway,
// headers on proxied responses and on local replies, config errors with file:line:col. A
// sluice-echo upstream answers everything that is proxied.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kConfig = R"yaml(_format_version: "3.0"
services:
  - name: main
    url: ${URL}
    routes:
      - name: open
        paths: ["/open"]
        plugins:
          - name: cors
      - name: list
        paths: ["/list"]
        plugins:
          - name: cors
            config:
              origins: ["http://page.example", "(.*\\.)?trusted\\.example"]
              headers: ["X-Allowed", "Content-Type"]
              exposed_headers: ["X-Total", "X-Page"]
              methods: ["GET", "POST"]
              max_age: 600
              credentials: true
      - name: creds-star
        paths: ["/creds-star"]
        plugins:
          - name: cors
            config:
              credentials: true
              private_network: true
      - name: continue
        paths: ["/continue"]
        plugins:
          - name: cors
            config:
              preflight_continue: true
      - name: absent
        paths: ["/absent"]
        plugins:
          - name: cors
            config:
              allow_origin_absent: false
      - name: broken
        paths: ["/broken"]
        plugins:
          - name: cors
            config:
              origins: ["http://page.example", "http://other.example"]
          - name: request-transformer
            config:
              replace:
                uri: "$(headers.x_path)"
)yaml";

struct Gateway {
  Gateway() : sluice(Substitute(kConfig, {{"URL", echo.url()}})) {}

  EchoServer echo;
  Sluice sluice;
};

// Every value of a response header, joined as one field would be.
std::string All(const Headers& headers, const std::string& name) {
  std::string out;
  auto [lo, hi] = headers.equal_range(name);
  for (auto it = lo; it != hi; ++it)
    out += (out.empty() ? "" : ", ") + it->second;
  return out;
}

CurlResult Preflight(const Gateway& gw, const std::string& path, const std::string& origin,
                     std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {gw.sluice.url(path),
                                   "-X",
                                   "OPTIONS",
                                   "-H",
                                   "Origin: " + origin,
                                   "-H",
                                   "Access-Control-Request-Method: POST"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCurl(args);
}

TEST_CASE("cors: a preflight is answered by the gateway with 200 and no body",
          "[integration][cors]") {
  Gateway gw;
  SECTION("defaults") {
    const CurlResult r = Preflight(gw, "/open/x", "http://page.example",
                                   {"-H", "Access-Control-Request-Headers: x-one, x-two"});
    INFO(r.stderr_text << r.body);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(r.Header("content-length") == "0");
    CHECK(r.Header("access-control-allow-origin") == "*");
    CHECK(r.Header("access-control-allow-methods") ==
          "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT");
    CHECK(r.Header("access-control-allow-headers") == "x-one, x-two");
    CHECK_FALSE(r.headers.count("access-control-allow-credentials"));
    CHECK_FALSE(r.headers.count("access-control-max-age"));
    CHECK_FALSE(r.headers.count("vary"));
  }
  SECTION("an origin list") {
    const CurlResult r = Preflight(gw, "/list", "http://page.example:80");
    INFO(r.stderr_text << r.body);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(r.Header("access-control-allow-origin") == "http://page.example");
    CHECK(r.Header("vary") == "Origin");
    CHECK(r.Header("access-control-allow-credentials") == "true");
    CHECK(r.Header("access-control-allow-headers") == "X-Allowed,Content-Type");
    CHECK(r.Header("access-control-allow-methods") == "GET,POST");
    CHECK(r.Header("access-control-max-age") == "600");
    CHECK_FALSE(r.headers.count("access-control-expose-headers"));
  }
  SECTION("a disallowed origin gets 200 without Access-Control-Allow-Origin") {
    const CurlResult r = Preflight(gw, "/list", "http://evil.example");
    CHECK(r.status == 200);
    CHECK_FALSE(r.headers.count("access-control-allow-origin"));
    CHECK(r.Header("vary") == "Origin");
    CHECK(r.Header("access-control-allow-credentials") == "true");
  }
  SECTION("credentials with '*' echo the origin; private network when asked") {
    const CurlResult r = Preflight(gw, "/creds-star", "http://Page.Example:8080",
                                   {"-H", "Access-Control-Request-Private-Network: true"});
    CHECK(r.status == 200);
    CHECK(r.Header("access-control-allow-origin") == "http://Page.Example:8080");
    CHECK(r.Header("access-control-allow-credentials") == "true");
    CHECK(r.Header("vary") == "Origin");
    CHECK(r.Header("access-control-allow-private-network") == "true");
  }
  CHECK(gw.echo.GetStats().requests == 0);  // no preflight reached the upstream
}

TEST_CASE("cors: OPTIONS without Access-Control-Request-Method is proxied (Kong #8978)",
          "[integration][cors]") {
  Gateway gw;
  const CurlResult r =
      Curl(gw.sluice.url("/list/o"), "-X", "OPTIONS", "-H", "Origin: http://page.example");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["method"] == "OPTIONS");
  CHECK(r.Header("access-control-allow-origin") == "http://page.example");
  CHECK_FALSE(r.headers.count("access-control-allow-methods"));
}

TEST_CASE("cors: preflight_continue proxies the preflight and adds nothing",
          "[integration][cors]") {
  Gateway gw;
  const CurlResult r = Preflight(gw, "/continue", "http://page.example");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["method"] == "OPTIONS");
  CHECK(r.Json()["headers"].value("access-control-request-method", "<absent>") == "POST");
  CHECK_FALSE(r.headers.count("access-control-allow-origin"));
  CHECK_FALSE(r.headers.count("access-control-allow-methods"));
  // A normal request on that route still gets the headers.
  const CurlResult g = Curl(gw.sluice.url("/continue"), "-H", "Origin: http://page.example");
  CHECK(g.Header("access-control-allow-origin") == "*");
}

TEST_CASE("cors: proxied responses", "[integration][cors]") {
  Gateway gw;
  SECTION("an allowed origin") {
    const CurlResult r =
        Curl(gw.sluice.url("/list/a"), "-H", "Origin: https://api.trusted.example");
    INFO(r.stderr_text << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.Json()["path"] == "/a");  // the upstream answered
    CHECK(r.Header("access-control-allow-origin") == "https://api.trusted.example");
    CHECK(All(r.headers, "vary") == "Origin");
    CHECK(r.Header("access-control-allow-credentials") == "true");
    CHECK(r.Header("access-control-expose-headers") == "X-Total,X-Page");
    CHECK_FALSE(r.headers.count("access-control-allow-methods"));
  }
  SECTION("a disallowed origin is still proxied, without Access-Control-Allow-Origin") {
    const CurlResult r =
        Curl(gw.sluice.url("/list/a"), "-H", "Origin: https://trusted.example.evil");
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.headers.count("access-control-allow-origin"));
    CHECK(r.Header("access-control-allow-credentials") == "true");
    CHECK(r.Header("access-control-expose-headers") == "X-Total,X-Page");
  }
  SECTION("no Origin: headers by default, none with allow_origin_absent false") {
    CHECK(Curl(gw.sluice.url("/open")).Header("access-control-allow-origin") == "*");
    const CurlResult r = Curl(gw.sluice.url("/absent"));
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.headers.count("access-control-allow-origin"));
    CHECK(Curl(gw.sluice.url("/absent"), "-H", "Origin: http://x.example")
              .Header("access-control-allow-origin") == "*");
  }
  SECTION("credentials with '*' echo the Origin on responses too") {
    const CurlResult r = Curl(gw.sluice.url("/creds-star"), "-H", "Origin: http://page.example");
    CHECK(r.Header("access-control-allow-origin") == "http://page.example");
    CHECK(r.Header("access-control-allow-credentials") == "true");
    CHECK(All(r.headers, "vary") == "Origin");
  }
}

TEST_CASE("cors: a local reply of a later filter gets the headers too", "[integration][cors]") {
  Gateway gw;
  // request-transformer (801) answers 500 for a rendered path without '/'; cors (2000) still
  // decorates the reply in its response hook, as Kong's header_filter does.
  const CurlResult r =
      Curl(gw.sluice.url("/broken"), "-H", "Origin: http://other.example", "-H", "X-Path: nope");
  INFO(r.stderr_text << r.body);
  CHECK(r.status == 500);
  CHECK(r.body == R"({"message":"An unexpected error occurred"})");
  CHECK(r.Header("access-control-allow-origin") == "http://other.example");
  CHECK(r.Header("vary") == "Origin");
  CHECK(gw.echo.GetStats().requests == 0);
}

TEST_CASE("cors: config errors point at the field", "[integration][cors]") {
  const std::string bin = RequireEnv("SLUICE_BIN");
  TempDir dir;
  const std::string path = dir.WriteFile("kong.yml", R"(_format_version: "3.0"
services:
  - name: main
    url: http://127.0.0.1:9
    routes:
      - name: api
        paths: ["/api"]
        plugins:
          - name: cors
            config:
              origins: ["http://ok.example", "(unclosed"]
)");
  Process p = Process::Spawn({bin, "validate", "-c", path});
  REQUIRE(p.Wait(Millis(20000)) == 1);
  const std::string err = p.ReadStderr();
  INFO(err);
  CHECK(err.find(path + ":11:46: config.origins[1]: '(unclosed' is not a valid regex\n") !=
        std::string::npos);
}

}  // namespace
}  // namespace sluice::testing

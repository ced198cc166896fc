// SPDX-License-Identifier: Apache-2.0
// Filter chains through the real gateway: the fixture modules of tests/core/filter_host (which
// leave an "x-trace" header per hook) and the two plugins/ between curl or raw sockets and a
// sluice-echo upstream. Covers the proxy side of the contract in core/filter_host/chain.h.
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

std::string Config(const EchoServer& echo, const std::string& plugins,
                   const std::string& route_plugins = "") {
  return Substitute(R"(_format_version: "3.0"
services:
  - name: main
    url: ${URL}
    routes:
      - name: api
        paths: ["/api"]
${ROUTE_PLUGINS}      - name: plain
        paths: ["/plain"]
consumers:
  - username: alice
)" + plugins,
                    {{"URL", echo.url()}, {"ROUTE_PLUGINS", route_plugins}});
}

SluiceOptions WithFixtures(int workers = 1) {
  SluiceOptions o;
  o.workers = workers;
  o.extra_args = {"--filters-dir", SLUICE_FIXTURES_DIR};
  return o;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(", ", start);
    if (comma == std::string::npos)
      comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 2;
  }
  return out;
}

// Every value of a response header, joined as one field would be.
std::string All(const Headers& headers, const std::string& name) {
  std::string out;
  auto [lo, hi] = headers.equal_range(name);
  for (auto it = lo; it != hi; ++it)
    out += (out.empty() ? "" : ", ") + it->second;
  return out;
}

TEST_CASE("filters: request and response hooks run in priority order", "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: prio-c
  - name: good
  - name: prio-b
)"),
            WithFixtures());
  const CurlResult r = Curl(gw.url("/api/x?q=1"));
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  auto j = r.Json();
  CHECK(j["path"] == "/x");
  CHECK(j["query"] == "q=1");
  // Request side: prio-b (2000), good (1000), prio-c (910).
  CHECK(Split(j["headers"]["x-trace"]) == std::vector<std::string>{"prio-b", "good", "prio-c"});
  CHECK(All(r.headers, "x-trace") == "prio-b, good, prio-c");
}

TEST_CASE("filters: a local reply skips the upstream, every response hook sees it",
          "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: prio-c
  - name: good
    config: {reply: 401}
  - name: prio-b
)"),
            WithFixtures());
  RawConn conn(gw.port());
  for (int i = 0; i < 2; ++i) {  // twice on one connection: the chain is reused cleanly
    REQUIRE(conn.Send(Request("GET", "/api/secret")));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    CHECK(r.status == 401);
    CHECK(r.body == R"({"message":"good"})");
    CHECK(r.Header("content-type") == "application/json");
    CHECK(r.Header("content-length") == std::to_string(r.body.size()));
    CHECK(All(r.headers, "x-trace") == "prio-b, good, prio-c");
    CHECK_FALSE(r.closed);
  }
  CHECK(echo.GetStats().requests == 0);
}

TEST_CASE("filters: a paused request resumes from a timer", "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: good
    config: {pause: true}
)"),
            WithFixtures(2));
  for (int i = 0; i < 20; ++i) {
    const CurlResult r = Curl(gw.url("/api/p"));
    INFO(r.stderr_text << r.body);
    REQUIRE(r.status == 200);
    CHECK(r.Json()["headers"]["x-trace"] == "good");
  }
}

TEST_CASE("filters: a body filter sees the whole request body and replaces it",
          "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: good
    config: {buffer: true}
)"),
            WithFixtures());
  const std::string body = PseudoRandomBytes(200000, 7);
  std::string upper = body;
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  }
  SECTION("content-length") {
    RawConn conn(gw.port());
    REQUIRE(conn.Send(Request("POST", "/api/up", "localhost", "", body)));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    REQUIRE(r.status == 200);
    auto j = r.Json();
    CHECK(j["body_bytes"] == upper.size());
    CHECK(j["body_fnv"] == Fnv1a64Hex(upper));
    CHECK(j["headers"]["content-length"] == std::to_string(upper.size()));
  }
  SECTION("chunked, with Expect: 100-continue") {
    const CurlResult r = Curl(gw.url("/api/up"), "-X", "POST", "-H", "Transfer-Encoding: chunked",
                              "-H", "Expect: 100-continue", "--data-binary", "hello world");
    INFO(r.stderr_text << r.body);
    REQUIRE(r.status == 200);
    auto j = r.Json();
    CHECK(j["body_fnv"] == Fnv1a64Hex("HELLO WORLD"));
    CHECK(j["headers"]["content-length"] == "11");
    CHECK_FALSE(j["headers"].contains("transfer-encoding"));
    CHECK_FALSE(j["headers"].contains("expect"));
  }
}

TEST_CASE("filters: gateway errors pass through the response hooks", "[integration][filters]") {
  ClosedPort closed;
  EchoServer echo;
  std::string yaml = Substitute(R"(_format_version: "3.0"
services:
  - name: down
    url: http://127.0.0.1:${PORT}
    retries: 0
    routes:
      - name: down
        paths: ["/down"]
plugins:
  - name: prio-b
)",
                                {{"PORT", std::to_string(closed.port())}});
  Sluice gw(yaml, WithFixtures());
  SECTION("502 from a refused connection") {
    const CurlResult r = Curl(gw.url("/down"));
    CHECK(r.status == 502);
    CHECK(r.Json()["message"] == "An invalid response was received from the upstream server");
    CHECK(r.Header("x-trace") == "prio-b");
  }
  SECTION("404: global plugins only") {
    const CurlResult r = Curl(gw.url("/nowhere"));
    CHECK(r.status == 404);
    CHECK(r.Json()["message"] == "no Route matched with those values");
    CHECK(r.Header("x-trace") == "prio-b");
  }
}

TEST_CASE("filters: a throwing filter costs its request a 500, nothing more",
          "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, "", R"(        plugins:
          - name: thrower
)"),
            WithFixtures());
  RawConn conn(gw.port());
  REQUIRE(conn.Send(Request("GET", "/api/x")));
  const Response bad = conn.ReadResponse();
  INFO(bad.Describe());
  CHECK(bad.status == 500);
  CHECK(bad.body == R"({"message":"An unexpected error occurred"})");
  // The route without the filter, and the gateway, carry on.
  const CurlResult ok = Curl(gw.url("/plain/x"));
  CHECK(ok.status == 200);
  CHECK(ok.Json()["headers"].contains("x-trace") == false);
  CHECK(gw.process().Running());
}

TEST_CASE("filters: the two plugins/ run in the gateway", "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: correlation-id
    config: {header_name: X-Request-Trace, echo_downstream: true}
  - name: header-stamp
    config: {headers: {X-Served-By: sluice}}
)"),
            WithFixtures());
  const CurlResult r = Curl(gw.url("/api/x"));
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  std::string sent = r.Json()["headers"].value("x-request-trace", "");
  CHECK_FALSE(sent.empty());
  CHECK(r.Header("x-request-trace") == sent);
  CHECK(r.Header("x-served-by") == "sluice");
}

TEST_CASE("filters: a plugin's config error is file:line:col, and a reload keeps the old one",
          "[integration][filters]") {
  EchoServer echo;
  Sluice gw(Config(echo, R"(plugins:
  - name: prio-b
)"),
            WithFixtures());
  CHECK(Curl(gw.url("/api/x")).Header("x-trace") == "prio-b");

  const std::string bad = Config(echo, R"(plugins:
  - name: reject
    config:
      minute: 0
)");
  const std::string path = gw.dir().WriteFile("bad.yml", bad);
  Process validate = Process::Spawn(
      {RequireEnv("SLUICE_BIN"), "validate", "-c", path, "--filters-dir", SLUICE_FIXTURES_DIR});
  REQUIRE(validate.Wait(Millis(10000)) == 1);
  INFO(validate.ReadStderr());
  CHECK(validate.ReadStderr().find(path + ":15:15: config.minute: must be greater than 0") !=
        std::string::npos);

  // The same file as the running config, then SIGHUP: refused, the old chain stays.
  gw.dir().WriteFile("kong.yml", bad);
  gw.process().Signal(SIGHUP);
  std::this_thread::sleep_for(Millis(300));
  CHECK(Curl(gw.url("/api/x")).Header("x-trace") == "prio-b");

  // A good file replaces the chain.
  gw.dir().WriteFile("kong.yml", Config(echo, R"(plugins:
  - name: prio-c
)"));
  gw.process().Signal(SIGHUP);
  std::string trace;
  for (int i = 0; i < 50 && trace != "prio-c"; ++i) {
    std::this_thread::sleep_for(Millis(50));
    trace = Curl(gw.url("/api/x")).Header("x-trace");
  }
  CHECK(trace == "prio-c");
}

TEST_CASE("filters: an http_call to another service pauses the request and resumes it",
          "[integration][filters]") {
  EchoServer echo{"main"};
  EchoServer keys{"keys"};
  ClosedPort closed;
  const std::string config = Substitute(
      R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: api
        paths: ["/api"]
        plugins:
          - name: good
            config: {fetch: keys}
      - name: nope
        paths: ["/nope"]
        plugins:
          - name: good
            config: {fetch: nope}
      - name: down
        paths: ["/down"]
        plugins:
          - name: good
            config: {fetch: down}
  - name: keys
    url: ${KEYS}
  - name: down
    url: http://127.0.0.1:${CLOSED}
)",
      {{"MAIN", echo.url()}, {"KEYS", keys.url()}, {"CLOSED", std::to_string(closed.port())}});
  Sluice gw(config, WithFixtures(2));

  const CurlResult ok = Curl(gw.url("/api/x"));
  INFO(ok.stderr_text << ok.body);
  REQUIRE(ok.status == 200);
  auto j = ok.Json();
  CHECK(j["service"] == "main");
  // good.c POSTs "hello" to /fetch on `keys`; the echo there answers with its JSON.
  const std::string fetched = j["headers"]["x-fetched"];
  CHECK(fetched.rfind("200 ", 0) == 0);
  CHECK(fetched.find("\"service\":\"keys\"") != std::string::npos);
  CHECK(fetched.find("\"method\":\"POST\"") != std::string::npos);
  CHECK(keys.GetStats().requests == 1);

  const CurlResult unknown = Curl(gw.url("/nope"));
  CHECK(unknown.status == 502);
  CHECK(unknown.body.find("no such service") != std::string::npos);

  const CurlResult refused = Curl(gw.url("/down"));
  INFO(refused.body);
  REQUIRE(refused.status == 200);
  CHECK(refused.Json()["headers"]["x-fetched"].get<std::string>().rfind("error ", 0) == 0);
}

}  // namespace
}  // namespace sluice::testing

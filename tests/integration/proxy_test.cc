// SPDX-License-Identifier: Apache-2.0
// The gateway's proxy path end to end: build/sluice between raw clients (or curl) and sluice-echo
// upstreams, checked against the Kong contract (DESIGN.md §4, §5; reference/kong.md §2.5-2.8).
#include <csignal>
#include <cstdint>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: up
        paths: ["/up"]
      - name: strip
        paths: ["/strip"]
        strip_path: true
      - name: nostrip
        paths: ["/nostrip"]
        strip_path: false
      - name: preserve
        paths: ["/preserve"]
        preserve_host: true
  - name: based
    url: ${MAIN}/base
    routes:
      - name: based
        paths: ["/svc"]
  - name: users
    url: ${USERS}
    routes:
      - name: user-by-id
        paths: ['~/users/\d+$']
        strip_path: false
  - name: host-a
    url: ${HOST_A}
    routes:
      - name: host-a
        hosts: ["a.example.com"]
  - name: host-b
    url: ${HOST_B}
    routes:
      - name: host-b
        hosts: ["b.example.com"]
)";

// Four named echo upstreams and the gateway in front of them (one worker unless asked).
struct Gateway {
  explicit Gateway(int workers = 1)
      : sluice(Substitute(kConfig, {{"MAIN", main.url()},
                                    {"USERS", users.url()},
                                    {"HOST_A", host_a.url()},
                                    {"HOST_B", host_b.url()}}),
               Options(workers)) {}

  static SluiceOptions Options(int workers) {
    SluiceOptions options;
    options.workers = workers;
    return options;
  }

  EchoServer main{"main"};
  EchoServer users{"users"};
  EchoServer host_a{"host-a"};
  EchoServer host_b{"host-b"};
  Sluice sluice;
};

// One request on a fresh connection to the gateway.
Response Fetch(Gateway& gw, std::string_view target, std::string_view host = "localhost",
               std::string_view extra = "") {
  RawConn conn(gw.sluice.port());
  if (!conn.Send(Request("GET", target, host, extra))) {
    Response r;
    r.error = "send failed";
    return r;
  }
  return conn.ReadResponse();
}

TEST_CASE("proxy: a GET is answered by the upstream", "[integration][proxy]") {
  Gateway gw;
  const CurlResult r = Curl(gw.sluice.url("/up/hello?x=1"), "-H", "X-Test: yes");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.exit_code == 0);
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "application/json");
  auto j = r.Json();
  REQUIRE(j.is_object());
  CHECK(j["service"] == "main");
  CHECK(j["method"] == "GET");
  CHECK(j["path"] == "/hello");
  CHECK(j["query"] == "x=1");
  CHECK(j["headers"]["x-test"] == "yes");
  CHECK(j["body_bytes"] == 0);
}

TEST_CASE("proxy: strip_path decides the upstream path", "[integration][proxy]") {
  Gateway gw;

  struct Case {
    const char* request;
    const char* upstream_path;
    const char* upstream_query;
  };

  // Rows of Kong's v0 table (reference/kong.md §2.5); the query passes through unchanged.
  const Case c = GENERATE(Case{"/strip/foo?a=b", "/foo", "a=b"},  //
                          Case{"/strip", "/", ""},                //
                          Case{"/strip/", "/", ""},               //
                          Case{"/stripfoo", "/foo", ""},          // a character prefix
                          Case{"/nostrip/foo?a=b", "/nostrip/foo", "a=b"},
                          Case{"/nostrip", "/nostrip", ""},   //
                          Case{"/svc/foo", "/base/foo", ""},  // service path + remainder
                          Case{"/svc", "/base", ""},          //
                          Case{"/svc/", "/base/", ""});
  const Response r = Fetch(gw, c.request);
  INFO(c.request << "\n" << r.Describe());
  REQUIRE(r.status == 200);
  auto j = r.Json();
  CHECK(j["service"] == "main");
  CHECK(j["path"] == c.upstream_path);
  CHECK(j["query"] == c.upstream_query);
}

TEST_CASE("proxy: routes by Host header", "[integration][proxy]") {
  Gateway gw;
  SECTION("a.example.com") {
    const Response r = Fetch(gw, "/anything", "a.example.com");
    INFO(r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Json()["service"] == "host-a");
    CHECK(r.Json()["path"] == "/anything");
  }
  SECTION("b.example.com, with a port that the match ignores") {
    const Response r = Fetch(gw, "/anything", "b.example.com:9999");
    INFO(r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Json()["service"] == "host-b");
  }
  SECTION("an unknown host matches nothing") {
    const Response r = Fetch(gw, "/anything", "c.example.com");
    CHECK(r.status == 404);
  }
  CHECK(gw.main.GetStats().requests == 0);
}

TEST_CASE("proxy: a regex route matches from the start to its end anchor", "[integration][proxy]") {
  Gateway gw;
  SECTION("matches") {
    const Response r = Fetch(gw, "/users/42");
    INFO(r.Describe());
    REQUIRE(r.status == 200);
    CHECK(r.Json()["service"] == "users");
    CHECK(r.Json()["path"] == "/users/42");  // strip_path: false
  }
  SECTION("does not match past $") { CHECK(Fetch(gw, "/users/42/posts").status == 404); }
  SECTION("does not match a non-digit id") { CHECK(Fetch(gw, "/users/abc").status == 404); }
  SECTION("is anchored at the start") { CHECK(Fetch(gw, "/v1/users/42").status == 404); }
}

TEST_CASE("proxy: three requests share one keep-alive connection", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  for (const char* path : {"/one", "/two", "/three"}) {
    REQUIRE(conn.Send(Request("GET", std::string("/up") + path)));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK_FALSE(r.closed);
    CHECK(r.Json()["path"] == path);
  }
  CHECK_FALSE(conn.IsClosed(Millis(100)));
}

TEST_CASE("proxy: pipelined requests are answered in order", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  // The first answer is the slowest: the later ones must still come after it.
  REQUIRE(conn.Send(Request("GET", "/up/delay/100") + Request("GET", "/up/second") +
                    Request("POST", "/up/third", "localhost", "", "body")));
  const Response first = conn.ReadResponse();
  const Response second = conn.ReadResponse();
  const Response third = conn.ReadResponse();
  INFO(first.Describe() << "\n" << second.Describe() << "\n" << third.Describe());
  REQUIRE(first.complete);
  REQUIRE(second.complete);
  REQUIRE(third.complete);
  CHECK(first.Json()["path"] == "/delay/100");
  CHECK(second.Json()["path"] == "/second");
  CHECK(third.Json()["path"] == "/third");
  CHECK(third.Json()["method"] == "POST");
  CHECK(third.Json()["body_bytes"] == 4);
}

TEST_CASE("proxy: sets X-Forwarded-* and X-Real-IP as Kong does", "[integration][proxy]") {
  Gateway gw;
  const std::string gateway_port = std::to_string(gw.sluice.port());
  SECTION("without incoming forwarding headers") {
    const Response r = Fetch(gw, "/up/h?q=1", "api.example.com");
    INFO(r.Describe());
    REQUIRE(r.status == 200);
    auto h = r.Json()["headers"];
    CHECK(h["x-forwarded-for"] == "127.0.0.1");
    CHECK(h["x-forwarded-proto"] == "http");
    CHECK(h["x-forwarded-host"] == "api.example.com");
    CHECK(h["x-forwarded-port"] == gateway_port);
    CHECK(h["x-forwarded-path"] == "/up/h");  // the original path, without the query
    CHECK(h["x-forwarded-prefix"] == "/up");  // what strip_path removed
    CHECK(h["x-real-ip"] == "127.0.0.1");
  }
  SECTION("an untrusted client's values are appended to (XFF) or replaced (the rest)") {
    const Response r = Fetch(gw, "/up/h", "api.example.com",
                             "X-Forwarded-For: 203.0.113.7\r\n"
                             "X-Forwarded-Proto: https\r\n"
                             "X-Forwarded-Host: evil.example\r\n"
                             "X-Forwarded-Port: 1\r\n"
                             "X-Forwarded-Path: /evil\r\n"
                             "X-Real-IP: 203.0.113.8\r\n");
    INFO(r.Describe());
    REQUIRE(r.status == 200);
    auto h = r.Json()["headers"];
    CHECK(h["x-forwarded-for"] == "203.0.113.7, 127.0.0.1");
    CHECK(h["x-forwarded-proto"] == "http");
    CHECK(h["x-forwarded-host"] == "api.example.com");
    CHECK(h["x-forwarded-port"] == gateway_port);
    CHECK(h["x-forwarded-path"] == "/up/h");
    CHECK(h["x-real-ip"] == "127.0.0.1");
  }
  SECTION("no prefix header when strip_path removed nothing") {
    const Response r = Fetch(gw, "/nostrip/x");
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.Json()["headers"].contains("x-forwarded-prefix"));
  }
}

TEST_CASE("proxy: hop-by-hop headers are not forwarded", "[integration][proxy]") {
  Gateway gw;
  const Response r = Fetch(gw, "/up/hop", "localhost",
                           "Connection: keep-alive, X-Drop-Me\r\n"
                           "Keep-Alive: timeout=5\r\n"
                           "TE: gzip\r\n"
                           "Upgrade: foo/1\r\n"
                           "Proxy-Connection: keep-alive\r\n"
                           "X-Drop-Me: secret\r\n"
                           "X-Keep-Me: kept\r\n");
  INFO(r.Describe());
  REQUIRE(r.status == 200);
  auto h = r.Json()["headers"];
  INFO(h.dump());
  CHECK(h["x-keep-me"] == "kept");
  CHECK_FALSE(h.contains("x-drop-me"));
  CHECK_FALSE(h.contains("keep-alive"));
  CHECK_FALSE(h.contains("te"));
  CHECK_FALSE(h.contains("upgrade"));
  CHECK_FALSE(h.contains("proxy-connection"));
  // The gateway may state its own persistence for the upstream hop (Kong sends keep-alive), but
  // never the client's Connection tokens.
  if (h.contains("connection")) {
    CHECK(h["connection"] == "keep-alive");
  }
}

TEST_CASE("proxy: Host sent upstream is the service's unless preserve_host",
          "[integration][proxy]") {
  Gateway gw;
  SECTION("default: upstream host:port") {
    const Response r = Fetch(gw, "/up/h", "client.example.com");
    REQUIRE(r.status == 200);
    CHECK(r.Json()["headers"]["host"] == gw.main.address());
  }
  SECTION("preserve_host: the client's Host, port included") {
    const Response r = Fetch(gw, "/preserve/h", "client.example.com:8080");
    REQUIRE(r.status == 200);
    CHECK(r.Json()["headers"]["host"] == "client.example.com:8080");
  }
}

TEST_CASE("proxy: a chunked request body arrives intact", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  const std::string big = PseudoRandomBytes(100'000, 7);
  const std::string body = "Hello, " + big + "world!";
  std::string request =
      "POST /up/chunked-in HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  request += "7\r\nHello, \r\n";
  request += "186a0;note=big\r\n" + big + "\r\n";  // 0x186a0 == 100000
  request += "6\r\nworld!\r\n0\r\n\r\n";
  REQUIRE(conn.Send(request));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.status == 200);
  auto j = r.Json();
  CHECK(j["method"] == "POST");
  CHECK(j["body_bytes"] == body.size());
  CHECK(j["body_fnv"] == Fnv1a64Hex(body));
}

TEST_CASE("proxy: a 50 MB request body arrives intact", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port(), Millis(30000));
  const std::string body = PseudoRandomBytes(50 * 1024 * 1024, 3);
  REQUIRE(conn.Send("POST /up/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n"));
  bool sent = true;
  for (size_t off = 0; sent && off < body.size(); off += 1024 * 1024) {
    sent = conn.Send(std::string_view(body).substr(off, 1024 * 1024));
  }
  // Read even after a failed send: an early answer (413, 431, ...) says why.
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(sent);
  REQUIRE(r.status == 200);
  auto j = r.Json();
  CHECK(j["body_bytes"] == body.size());
  CHECK(j["body_fnv"] == Fnv1a64Hex(body));
}

TEST_CASE("proxy: a 50 MB response body arrives intact", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port(), Millis(30000));
  constexpr size_t kSize = 52'428'800;
  REQUIRE(conn.Send(Request("GET", "/up/bytes/" + std::to_string(kSize))));
  const Response r = conn.ReadResponse();
  INFO(r.status << " " << r.error << " " << r.body.size() << " bytes");
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  if (r.HasHeader("content-length")) {
    CHECK(r.Header("content-length") == std::to_string(kSize));
  }
  CHECK(r.body.size() == kSize);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
}

TEST_CASE("proxy: chunked and close-delimited upstream bodies are relayed",
          "[integration][proxy]") {
  Gateway gw;
  constexpr size_t kSize = 200'003;
  const std::string target =
      GENERATE(std::string("/up/chunked/200003"), std::string("/up/close/200003"));
  const Response r = Fetch(gw, target);
  INFO(target << ": " << r.status << " " << r.error << " " << r.body.size() << " bytes");
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.body.size() == kSize);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
}

TEST_CASE("proxy: upstream connections are pooled", "[integration][proxy]") {
  Gateway gw;
  SECTION("20 requests on one client connection") {
    RawConn conn(gw.sluice.port());
    for (int i = 0; i < 20; ++i) {
      REQUIRE(conn.Send(Request("GET", "/up/pool/" + std::to_string(i))));
      const Response r = conn.ReadResponse();
      INFO(r.Describe());
      REQUIRE(r.status == 200);
    }
  }
  SECTION("20 requests on 20 client connections") {
    for (int i = 0; i < 20; ++i) {
      const Response r = Fetch(gw, "/up/pool/" + std::to_string(i));
      INFO(r.Describe());
      REQUIRE(r.status == 200);
    }
  }
  const EchoServer::Stats stats = gw.main.GetStats();
  CHECK(stats.requests == 20);
  // One worker, sequential requests: one pooled upstream connection suffices; allow a second.
  CHECK(stats.connections - 1 <= 2);  // minus the /__stats connection
}

TEST_CASE("proxy: SIGTERM lets an in-flight request finish, then exits 0", "[integration][proxy]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", "/up/delay/500")));
  // Waits until the upstream holds the request, so that the signal lands while it is in flight.
  for (int i = 0; i < 1000 && gw.main.GetStats().requests == 0; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  REQUIRE(gw.main.GetStats().requests == 1);
  gw.sluice.process().Signal(SIGTERM);
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Json()["path"] == "/delay/500");
  CHECK(gw.sluice.process().Wait(Millis(30000)) == 0);
}

}  // namespace
}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
// Request limits and HTTP/1.x framing at the client edge (DESIGN.md §7; RFC 9112): oversized
// heads, malformed requests, the header timeout, and HTTP/1.0 persistence and framing.
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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
)";

struct Gateway {
  Gateway() : sluice(Substitute(kConfig, {{"MAIN", main.url()}})) {}

  EchoServer main{"main"};
  Sluice sluice;
};

// A gateway-generated error reply: `status`, and a JSON body when there is one.
void CheckErrorReply(const Response& r, int status) {
  INFO(r.Describe());
  CHECK(r.complete);
  CHECK(r.status == status);
  if (!r.body.empty()) {
    CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
    CHECK(r.Json().is_object());
  }
}

TEST_CASE("limits: a 64 KiB header is 431 and the connection closes", "[integration][limits]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  const std::string cookie = "Cookie: big=" + std::string(64 * 1024, 'c') + "\r\n";
  // The gateway may stop reading (and answer) before all of it is sent.
  conn.Send(Request("GET", "/up/x", "localhost", cookie));
  const Response r = conn.ReadResponse();
  CheckErrorReply(r, 431);
  CHECK(conn.IsClosed(Millis(5000)));
  CHECK(gw.main.GetStats().requests == 0);
}

TEST_CASE("limits: an 8 KiB cookie is still proxied", "[integration][limits]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  const std::string value(8 * 1024, 'c');
  REQUIRE(conn.Send(Request("GET", "/up/x", "localhost", "Cookie: big=" + value + "\r\n")));
  const Response r = conn.ReadResponse();
  INFO(r.status << " " << r.error);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["headers"]["cookie"] == "big=" + value);
}

TEST_CASE("limits: a request head that arrives in pieces is proxied intact",
          "[integration][limits]") {
  // Over a real network a head often spans several reads (one MSS is ~1.4 kB); the pauses make
  // each piece a read of its own on loopback too.
  Gateway gw;
  const std::string long_value(20 * 1024, 'v');
  const std::vector<std::string> pieces = {
      "GET /up/split-target?q=1 HTTP/1.1\r\nHost: localhost\r\n",
      "X-First: one\r\nX-Long: " + long_value.substr(0, 10 * 1024),
      long_value.substr(10 * 1024) + "\r\nX-Last: last\r\n", "\r\n"};
  RawConn conn(gw.sluice.port());
  for (const std::string& piece : pieces) {
    REQUIRE(conn.Send(piece));
    std::this_thread::sleep_for(Millis(150));
  }
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.status == 200);
  const nlohmann::json j = r.Json();
  CHECK(j["path"] == "/split-target");
  CHECK(j["query"] == "q=1");
  CHECK(j["headers"]["x-first"] == "one");
  CHECK(j["headers"]["x-long"] == long_value);
  CHECK(j["headers"]["x-last"] == "last");
}

TEST_CASE("limits: a head split inside a header value leaves the gateway running",
          "[integration][limits]") {
  // The second piece is shorter than the offset at which the split value began.
  Gateway gw;
  const std::string first =
      "GET /up/x HTTP/1.1\r\nHost: localhost\r\nX-Long: " + std::string(100, 'a');
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(first));
  std::this_thread::sleep_for(Millis(200));
  REQUIRE(conn.Send("bbbb/up/x\r\n\r\n"));
  const Response r = conn.ReadResponse();
  const bool survived = !gw.sluice.process().Wait(Millis(500)).has_value();
  INFO(r.Describe() << "\ngateway stderr:\n" << gw.sluice.process().ReadStderr().substr(0, 2000));
  CHECK(survived);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["headers"]["x-long"] == std::string(100, 'a') + "bbbb/up/x");
  CHECK(r.Json()["path"] == "/x");
  REQUIRE(survived);
  RawConn next(gw.sluice.port());
  REQUIRE(next.Send(Request("GET", "/up/after")));
  CHECK(next.ReadResponse().status == 200);
}

TEST_CASE("limits: a malformed request is 400 and the connection closes", "[integration][limits]") {
  struct Case {
    const char* what;
    std::string request;
  };

  const Case c = GENERATE(
      Case{"a method that is not a token", "G@T /up/x HTTP/1.1\r\nHost: x\r\n\r\n"},
      Case{"a method with a bracket", "[GET] /up/x HTTP/1.1\r\nHost: x\r\n\r\n"},
      Case{"a non-numeric HTTP version", "GET /up/x HTTP/1.x\r\nHost: x\r\n\r\n"},
      Case{"a version without a dot", "GET /up/x HTTP/11\r\nHost: x\r\n\r\n"},
      Case{"two differing Content-Length fields",
           "POST /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
           "hello!"},
      Case{"a Content-Length list",
           "POST /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n"
           "hello!"},
      Case{"an invalid chunk size",
           "POST /up/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "zz\r\nhello\r\n0\r\n\r\n"},
      Case{"an HTTP/1.1 request without Host", "GET /up/x HTTP/1.1\r\n\r\n"},
      Case{"two Host fields", "GET /up/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"});
  Gateway gw;
  INFO(c.what);
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(c.request));
  const Response r = conn.ReadResponse();
  CheckErrorReply(r, 400);
  CHECK(conn.IsClosed(Millis(5000)));
  CHECK(gw.main.GetStats().requests == 0);
}

TEST_CASE("limits: a client that stalls mid-head gets 408", "[integration][limits]") {
  EchoServer main{"main"};
  SluiceOptions options;
  options.extra_args = {"--client-header-timeout", "300"};
  Sluice sluice(Substitute(kConfig, {{"MAIN", main.url()}}), options);
  RawConn conn(sluice.port(), Millis(10000));
  REQUIRE(conn.Send("GET /up/x HTTP/1.1\r\nHost: localhost\r\nX-Partial: "));
  const Response r = conn.ReadResponse();
  CheckErrorReply(r, 408);
  CHECK(conn.IsClosed(Millis(5000)));
  CHECK(main.GetStats().requests == 0);
}

TEST_CASE("limits: bodies over --client-max-body-size are 413", "[integration][limits]") {
  EchoServer main{"main"};
  SluiceOptions options;
  options.extra_args = {"--client-max-body-size", "1000"};
  Sluice sluice(Substitute(kConfig, {{"MAIN", main.url()}}), options);
  SECTION("declared by Content-Length") {
    RawConn conn(sluice.port());
    REQUIRE(conn.Send(Request("POST", "/up/x", "localhost", "Content-Length: 1001\r\n") +
                      std::string(1001, 'a')));
    const Response r = conn.ReadResponse();
    CheckErrorReply(r, 413);
    CHECK(r.Json()["message"] == "Payload too large");
    CHECK(conn.IsClosed(Millis(5000)));
    CHECK(main.GetStats().requests == 0);
  }
  SECTION("at the limit it is proxied") {
    RawConn conn(sluice.port());
    REQUIRE(conn.Send(Request("POST", "/up/x", "localhost", "Content-Length: 1000\r\n") +
                      std::string(1000, 'a')));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Json()["body_bytes"] == 1000);
  }
  SECTION("chunked, counted as it streams") {
    RawConn conn(sluice.port());
    REQUIRE(conn.Send(Request("POST", "/up/x", "localhost", "Transfer-Encoding: chunked\r\n") +
                      "3e8\r\n" + std::string(1000, 'a') + "\r\n1\r\nb\r\n0\r\n\r\n"));
    const Response r = conn.ReadResponse();
    CheckErrorReply(r, 413);
    CHECK(conn.IsClosed(Millis(5000)));
  }
}

TEST_CASE("limits: HTTP/1.0 without keep-alive gets its answer, then the close",
          "[integration][limits]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send("GET /up/ten?q=1 HTTP/1.0\r\n\r\n"));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Json()["path"] == "/ten");
  CHECK(r.Json()["query"] == "q=1");
  CHECK(r.Header("connection") != "keep-alive");
  CHECK(conn.IsClosed(Millis(5000)));
}

TEST_CASE("limits: HTTP/1.0 with Connection: keep-alive stays open", "[integration][limits]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  for (const char* path : {"/one", "/two"}) {
    REQUIRE(
        conn.Send(std::string("GET /up") + path + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const Response r = conn.ReadResponse();
    INFO(path << "\n" << r.Describe());
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.Json()["path"] == path);
    // An HTTP/1.0 client assumes a close unless told otherwise (RFC 9112 §9.3, appendix C.2.2).
    CHECK(r.Header("connection") == "keep-alive");
    REQUIRE(r.HasHeader("content-length"));
    CHECK_FALSE(r.closed);
  }
  CHECK_FALSE(conn.IsClosed(Millis(300)));
}

TEST_CASE("limits: a chunked upstream body reaches an HTTP/1.0 client close-delimited",
          "[integration][limits]") {
  Gateway gw;
  constexpr size_t kSize = 300'001;
  const std::string connection = GENERATE(std::string(""), std::string("keep-alive"));
  INFO("Connection: " << connection);
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send("GET /up/chunked/" + std::to_string(kSize) + " HTTP/1.0\r\n" +
                    (connection.empty() ? "" : "Connection: " + connection + "\r\n") + "\r\n"));
  const Response r = conn.ReadResponse();
  INFO(r.status << " " << r.error << " " << r.body.size() << " bytes");
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK_FALSE(r.chunked);  // HTTP/1.0 has no chunked coding
  CHECK_FALSE(r.HasHeader("transfer-encoding"));
  CHECK_FALSE(r.HasHeader("content-length"));
  CHECK(r.closed);
  CHECK(r.body.size() == kSize);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
}

}  // namespace
}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
// The errors clients see from the gateway itself (DESIGN.md §7): status, JSON body with Kong's
// message, and whether the connection survives.
#include <string>

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
  - name: down
    url: http://127.0.0.1:${CLOSED_PORT}
    routes:
      - name: down
        paths: ["/down"]
  - name: slow
    url: ${MAIN}
    read_timeout: 200
    retries: 0
    routes:
      - name: slow
        paths: ["/slow"]
)";

// An echo upstream, a port nobody listens on, and the gateway in front of both.
struct Gateway {
  Gateway()
      : sluice(Substitute(
            kConfig, {{"MAIN", main.url()}, {"CLOSED_PORT", std::to_string(closed.port())}})) {}

  EchoServer main{"main"};
  ClosedPort closed;
  Sluice sluice;
};

Response Send(Gateway& gw, std::string_view request) {
  RawConn conn(gw.sluice.port());
  if (!conn.Send(request)) {
    Response r;
    r.error = "send failed";
    return r;
  }
  return conn.ReadResponse();
}

// A gateway-generated error: `status`, a JSON content type, and the body
// {"message":MESSAGE}, optionally with "request_id" (Kong 3.5+, allowed by DESIGN.md §7).
void CheckKongError(const Response& r, int status, const std::string& message) {
  INFO(r.Describe());
  CHECK(r.status == status);
  CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  auto j = r.Json();
  REQUIRE(j.is_object());
  CHECK(j.value("message", "") == message);
  for (const auto& item : j.items()) {
    INFO("key " << item.key());
    CHECK((item.key() == "message" || item.key() == "request_id"));
  }
  if (j.contains("request_id")) {
    CHECK(j["request_id"].is_string());
  } else {
    CHECK(r.body == R"({"message":")" + message + R"("})");
  }
}

TEST_CASE("errors: no matching route is 404", "[integration][errors]") {
  Gateway gw;
  const Response r = Send(gw, Request("GET", "/nowhere"));
  CheckKongError(r, 404, "no Route matched with those values");
  CHECK(gw.main.GetStats().requests == 0);
}

TEST_CASE("errors: a refused or broken upstream is 502", "[integration][errors]") {
  Gateway gw;
  SECTION("connection refused") {
    CheckKongError(Send(gw, Request("GET", "/down/x")), 502,
                   "An invalid response was received from the upstream server");
  }
  SECTION("a malformed status line") {
    CheckKongError(Send(gw, Request("GET", "/up/garbage")), 502,
                   "An invalid response was received from the upstream server");
  }
  SECTION("a reset before any response") {
    CheckKongError(Send(gw, Request("GET", "/up/reset-now")), 502,
                   "An invalid response was received from the upstream server");
  }
}

TEST_CASE("errors: an upstream slower than read_timeout is 504", "[integration][errors]") {
  Gateway gw;
  CheckKongError(Send(gw, Request("GET", "/slow/headers-delay/2000")), 504,
                 "The upstream server is timing out");
}

TEST_CASE("errors: a malformed request line is 400 and closes", "[integration][errors]") {
  Gateway gw;
  const std::string request = GENERATE(std::string("GET / HTP/1.1\r\nHost: x\r\n\r\n"),
                                       std::string("GET /up/x HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
                                       std::string("\x01\x02garbage\r\n\r\n"));
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(request));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK(r.status == 400);
  if (!r.body.empty()) {
    CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  }
  CHECK(conn.IsClosed(Millis(5000)));
  CHECK(gw.main.GetStats().requests == 0);
}

TEST_CASE("errors: Content-Length with Transfer-Encoding is 400 and closes",
          "[integration][errors]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  // A request-smuggling shape (RFC 9112 §6.1): it must never reach the upstream.
  REQUIRE(conn.Send(
      "POST /up/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /up/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK(r.status == 400);
  CHECK(conn.IsClosed(Millis(5000)));
  CHECK(gw.main.GetStats().requests == 0);
}

}  // namespace
}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
#include "core/http/known_headers.h"

#include <catch2/catch.hpp>

#include "core/http/header_map.h"
#include "core/http/reply.h"

namespace sluice::http {
namespace {

TEST_CASE("known headers: names are recognised case-insensitively", "[http]") {
  CHECK(ClassifyHeader("Host") == HeaderId::kHost);
  CHECK(ClassifyHeader("HOST") == HeaderId::kHost);
  CHECK(ClassifyHeader("connection") == HeaderId::kConnection);
  CHECK(ClassifyHeader("Transfer-Encoding") == HeaderId::kTransferEncoding);
  CHECK(ClassifyHeader("X-Forwarded-For") == HeaderId::kXForwardedFor);
  CHECK(ClassifyHeader("x-forwarded-prefix") == HeaderId::kXForwardedPrefix);
  CHECK(ClassifyHeader("TE") == HeaderId::kTe);
  CHECK(ClassifyHeader("Content-Length") == HeaderId::kContentLength);
}

TEST_CASE("known headers: near misses are ordinary headers", "[http]") {
  CHECK(ClassifyHeader("Hosts") == HeaderId::kOther);
  CHECK(ClassifyHeader("X-Forwarded-Fo") == HeaderId::kOther);
  CHECK(ClassifyHeader("") == HeaderId::kOther);
  CHECK(ClassifyHeader("T") == HeaderId::kOther);
  CHECK(ClassifyHeader("Authorization") == HeaderId::kOther);
  CHECK(ClassifyHeader("hxst") == HeaderId::kOther);
}

TEST_CASE("known headers: RFC 9110 hop-by-hop set", "[http]") {
  for (absl::string_view name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE",
                                 "Transfer-Encoding", "Upgrade", "Trailer"}) {
    INFO(std::string(name));
    CHECK(IsHopByHop(ClassifyHeader(name)));
  }
  for (absl::string_view name : {"Host", "Content-Length", "Via", "X-Real-IP", "Cookie"}) {
    INFO(std::string(name));
    CHECK_FALSE(IsHopByHop(ClassifyHeader(name)));
  }
}

TEST_CASE("header map: lookup is case-insensitive and keeps order", "[http]") {
  HeaderMap m;
  m.Add("Accept", "a");
  m.Add("X-Multi", "1");
  m.Add("x-multi", "2");
  CHECK(m.Get("accept") == "a");
  CHECK(m.Get("missing").empty());
  std::vector<std::string> seen;
  m.ForEach("X-MULTI", [&](absl::string_view v) {
    seen.emplace_back(v);
    return true;
  });
  CHECK(seen == std::vector<std::string>{"1", "2"});
}

TEST_CASE("reply: gateway errors carry Kong's JSON body", "[http]") {
  std::string out;
  AppendErrorReply(404, DefaultMessage(404), false, false, &out);
  CHECK(out == "HTTP/1.1 404 Not Found\r\nServer: sluice/" SLUICE_VERSION
               "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 48\r\n\r\n"
               "{\"message\":\"no Route matched with those values\"}");
}

TEST_CASE("reply: text/plain and connection close", "[http]") {
  std::string out;
  AppendErrorReply(502, DefaultMessage(502), true, true, &out);
  CHECK(out ==
        "HTTP/1.1 502 Bad Gateway\r\nServer: sluice/" SLUICE_VERSION
        "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 58\r\n"
        "Connection: close\r\n\r\nAn invalid response was received from the upstream server\n");
}

TEST_CASE("reply: Kong messages for gateway statuses", "[http]") {
  CHECK(DefaultMessage(504) == "The upstream server is timing out");
  CHECK(DefaultMessage(503) == "failure to get a peer from the ring-balancer");
  CHECK(DefaultMessage(400) == "Bad request");
  CHECK(DefaultMessage(413) == "Payload too large");
  CHECK(ReasonPhrase(431) == "Request Header Fields Too Large");
}

}  // namespace
}  // namespace sluice::http

// SPDX-License-Identifier: Apache-2.0
// Bodies streamed through the gateway (DESIGN.md §1: "stream request body", "stream response to
// client"): bounded gateway memory against slow readers on either side, and what a client sees
// when the upstream breaks mid-way.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: up
        paths: ["/up"]
)";

// What the gateway may grow by while it relays a body many times that size.
constexpr long kMaxGrowthKiB = 32 * 1024;

struct Gateway {
  Gateway() : sluice(Substitute(kConfig, {{"MAIN", main.url()}})) {}

  EchoServer main{"main"};
  Sluice sluice;
};

// VmRSS of `pid` in KiB, from /proc/PID/status; -1 when it cannot be read.
long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

// The gateway's RSS once it has relayed a small body each way, so that its buffer pools, pooled
// upstream connection and allocator arenas exist before the measurement starts.
long WarmedUpRss(Gateway& gw) {
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", "/up/bytes/1048576")));
  const Response got = conn.ReadResponse();
  REQUIRE(got.status == 200);
  REQUIRE(got.body.size() == 1048576);
  REQUIRE(conn.Send(Request("POST", "/up/warm", "localhost", "", PseudoRandomBytes(1 << 20, 9))));
  const Response posted = conn.ReadResponse();
  REQUIRE(posted.status == 200);
  const long rss = RssKiB(gw.sluice.process().Pid());
  REQUIRE(rss > 0);
  return rss;
}

TEST_CASE("streaming: a 50 MB response to a slow reader is not buffered whole",
          "[integration][streaming]") {
  Gateway gw;
  const pid_t pid = gw.sluice.process().Pid();
  const long start_rss = WarmedUpRss(gw);
  constexpr uint64_t kSize = 50ULL * 1024 * 1024;

  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", "/up/bytes/" + std::to_string(kSize))));
  // Reads 16 KiB at a time with a pause after each read, far slower than loopback and the echo
  // can produce, so that the gateway meets backpressure for the whole transfer.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::string head;
  bool head_done = false;
  uint64_t body = 0;
  uint64_t first_bad = UINT64_MAX;
  long max_rss = start_rss;
  std::string error;
  char buf[16 * 1024];
  for (int reads = 0; body < kSize; ++reads) {
    if (Clock::now() > deadline) {
      error = "not finished within 60 s";
      break;
    }
    pollfd pfd{conn.fd(), POLLIN, 0};
    if (poll(&pfd, 1, 10000) <= 0) {
      error = "no data for 10 s";
      break;
    }
    const ssize_t n = recv(conn.fd(), buf, sizeof buf, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      }
      error = n == 0 ? "closed early" : "recv error";
      break;
    }
    std::string_view data(buf, static_cast<size_t>(n));
    std::string after_head;
    if (!head_done) {
      head.append(data);
      const size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) {
        continue;
      }
      after_head = head.substr(end + 4);
      head.resize(end + 4);
      head_done = true;
      data = after_head;
    }
    if (const size_t bad = FirstPatternMismatch(data, body);
        bad != std::string::npos && first_bad == UINT64_MAX) {
      first_bad = body + bad;
    }
    body += data.size();
    if (reads % 32 == 0) {
      max_rss = std::max(max_rss, RssKiB(pid));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  max_rss = std::max(max_rss, RssKiB(pid));
  INFO("head:\n"
       << head << "body bytes " << body << ", error '" << error << "', RSS start " << start_rss
       << " KiB, max " << max_rss << " KiB");
  CHECK(error.empty());
  CHECK(head.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(head.find("\r\nContent-Length: " + std::to_string(kSize) + "\r\n") != std::string::npos);
  CHECK(body == kSize);
  CHECK(first_bad == UINT64_MAX);
  CHECK(max_rss - start_rss < kMaxGrowthKiB);
}

TEST_CASE("streaming: a body to a slow-reading upstream arrives intact, memory bounded",
          "[integration][streaming]") {
  Gateway gw;
  const pid_t pid = gw.sluice.process().Pid();
  const long start_rss = WarmedUpRss(gw);
  // /slow-read takes 16 KiB per 200 ms: 2 MiB is about 26 s.
  const std::string body = PseudoRandomBytes(2 * 1024 * 1024, 5);
  RawConn conn(gw.sluice.port(), Millis(30000));
  REQUIRE(conn.Send("POST /up/slow-read HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n"));
  long max_rss = start_rss;
  bool sent = true;
  for (size_t off = 0; sent && off < body.size(); off += 64 * 1024) {
    sent = conn.Send(std::string_view(body).substr(off, 64 * 1024));
    max_rss = std::max(max_rss, RssKiB(pid));
  }
  const Response r = conn.ReadResponse();
  max_rss = std::max(max_rss, RssKiB(pid));
  INFO(r.Describe() << "\nRSS start " << start_rss << " KiB, max " << max_rss << " KiB");
  REQUIRE(sent);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["body_bytes"] == body.size());
  CHECK(r.Json()["body_fnv"] == Fnv1a64Hex(body));
  CHECK(max_rss - start_rss < kMaxGrowthKiB);
}

TEST_CASE("streaming: backpressure from a slow upstream reaches the client",
          "[integration][streaming]") {
  Gateway gw;
  const pid_t pid = gw.sluice.process().Pid();
  const long start_rss = WarmedUpRss(gw);
  // Offers 64 MiB for 5 s to an upstream that takes 80 KiB/s. A gateway that buffered request
  // bodies would take it all and grow by as much; one that streams takes only what the socket
  // buffers hold.
  constexpr size_t kOffered = 64 * 1024 * 1024;
  const std::string block = PseudoRandomBytes(1024 * 1024, 6);
  size_t sent = 0;
  long max_rss = start_rss;
  {
    RawConn conn(gw.sluice.port());
    REQUIRE(conn.Send("POST /up/slow-read HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                      std::to_string(kOffered) + "\r\n\r\n"));
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (sent < kOffered && Clock::now() < deadline) {
      pollfd pfd{conn.fd(), POLLOUT, 0};
      if (poll(&pfd, 1, 100) > 0) {
        const size_t at = sent % block.size();
        const ssize_t n = send(conn.fd(), block.data() + at,
                               std::min(block.size() - at, kOffered - sent), MSG_NOSIGNAL);
        if (n > 0) {
          sent += static_cast<size_t>(n);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          break;
        }
      }
      max_rss = std::max(max_rss, RssKiB(pid));
    }
    max_rss = std::max(max_rss, RssKiB(pid));
  }  // the client gives up: the gateway must drop the exchange and carry on
  INFO("sent " << sent << " of " << kOffered << " bytes; RSS start " << start_rss << " KiB, max "
               << max_rss << " KiB");
  CHECK(max_rss - start_rss < kMaxGrowthKiB);
  CHECK(sent < kOffered);
  RawConn next(gw.sluice.port());
  REQUIRE(next.Send(Request("GET", "/up/after")));
  const Response r = next.ReadResponse();
  INFO(r.Describe());
  CHECK(r.status == 200);
  CHECK(r.Json()["path"] == "/after");
}

TEST_CASE("streaming: an upstream reset mid-body truncates the client's response",
          "[integration][streaming]") {
  Gateway gw;
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", "/up/reset-mid")));
  const Response r = conn.ReadResponse();
  INFO(r.status << " error '" << r.error << "' " << r.body.size() << " body bytes");
  // The head went out before the reset: the client must see the body end short of its
  // Content-Length with the connection closed, never a complete (or a second) response.
  CHECK(r.status == 200);
  CHECK(r.Header("content-length") == "1000000");
  CHECK_FALSE(r.complete);
  CHECK(r.closed);
  CHECK(r.body.size() < 1000000);
  CHECK(r.body.find("HTTP/1.1") == std::string::npos);
  // The gateway carries on.
  RawConn next(gw.sluice.port());
  REQUIRE(next.Send(Request("GET", "/up/after")));
  const Response after = next.ReadResponse();
  CHECK(after.status == 200);
}

TEST_CASE("streaming: an upstream that answers nothing or garbage is 502",
          "[integration][streaming]") {
  Gateway gw;
  const std::string target = GENERATE(std::string("/up/reset-now"), std::string("/up/garbage"));
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", target)));
  const Response r = conn.ReadResponse();
  INFO(target << "\n" << r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 502);
  CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  CHECK(r.Json().value("message", "") ==
        "An invalid response was received from the upstream server");
  // The client's connection was not at fault: it stays usable.
  CHECK_FALSE(r.closed);
  REQUIRE(conn.Send(Request("GET", "/up/next")));
  const Response next = conn.ReadResponse();
  INFO(next.Describe());
  CHECK(next.status == 200);
  CHECK(next.Json()["path"] == "/next");
}

TEST_CASE("streaming: a close-delimited upstream body reaches HTTP/1.1 chunked",
          "[integration][streaming]") {
  Gateway gw;
  constexpr size_t kSize = 1'000'003;
  RawConn conn(gw.sluice.port());
  REQUIRE(conn.Send(Request("GET", "/up/close/" + std::to_string(kSize))));
  const Response r = conn.ReadResponse();
  INFO(r.status << " " << r.error << " " << r.body.size() << " bytes");
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.chunked);
  CHECK_FALSE(r.HasHeader("content-length"));
  CHECK(r.body.size() == kSize);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
  // The chunked framing lets the client connection live on.
  CHECK_FALSE(r.closed);
  REQUIRE(conn.Send(Request("GET", "/up/next")));
  CHECK(conn.ReadResponse().status == 200);
}

}  // namespace
}  // namespace sluice::testing

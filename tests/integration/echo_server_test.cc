// SPDX-License-Identifier: Apache-2.0
// sluice-echo driven directly through the harness, which proves both before the gateway sits
// between them: every endpoint the gateway tests rely on, keep-alive, pipelining and bodies.
#include <csignal>
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

TEST_CASE("echo: describes a GET as JSON", "[integration][echo]") {
  EchoServer echo("alpha");
  const CurlResult r = Curl(echo.url() + "/some/path?x=1&y=%20", "-H", "X-Multi: a", "-H",
                            "X-Multi: b", "-H", "X-Empty;");
  INFO(r.stderr_text);
  REQUIRE(r.exit_code == 0);
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.Header("content-length") == std::to_string(r.body.size()));
  auto j = r.Json();
  INFO(r.body);
  REQUIRE(j.is_object());
  CHECK(j["service"] == "alpha");
  CHECK(j["method"] == "GET");
  CHECK(j["path"] == "/some/path");
  CHECK(j["query"] == "x=1&y=%20");
  CHECK(j["http_version"] == "1.1");
  CHECK(j["headers"]["host"] == echo.address());
  CHECK(j["headers"]["x-multi"] == "a, b");
  CHECK(j["headers"]["x-empty"] == "");
  CHECK(j["body_bytes"] == 0);
  CHECK(j["body_fnv"] == "cbf29ce484222325");
}

TEST_CASE("echo: serves three requests on one keep-alive connection", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  for (const char* path : {"/first", "/second", "/third"}) {
    REQUIRE(conn.Send(Request("GET", path)));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK_FALSE(r.closed);
    CHECK(r.Json()["path"] == path);
  }
  const EchoServer::Stats stats = echo.GetStats();
  CHECK(stats.connections == 2);  // this connection and the /__stats one
  CHECK(stats.requests == 3);
}

TEST_CASE("echo: answers pipelined requests in order", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  // The slow one in the middle proves that a later, quicker answer waits its turn.
  REQUIRE(conn.Send(Request("GET", "/one") + Request("GET", "/delay/100") +
                    Request("POST", "/three", "localhost", "", "abc")));
  const Response one = conn.ReadResponse();
  const Response two = conn.ReadResponse();
  const Response three = conn.ReadResponse();
  INFO(one.Describe() << "\n" << two.Describe() << "\n" << three.Describe());
  REQUIRE(one.complete);
  REQUIRE(two.complete);
  REQUIRE(three.complete);
  CHECK(one.Json()["path"] == "/one");
  CHECK(two.Json()["path"] == "/delay/100");
  CHECK(three.Json()["path"] == "/three");
  CHECK(three.Json()["body_bytes"] == 3);
  CHECK(echo.GetStats().connections == 2);
}

TEST_CASE("echo: counts and hashes a chunked request body", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(
      conn.Send("POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nHello\r\n"
                "2;ext=1\r\n, \r\n"
                "6\r\nworld!\r\n"
                "0\r\nX-Trailer: yes\r\n\r\n"));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  auto j = r.Json();
  CHECK(j["body_bytes"] == 13);
  CHECK(j["body_fnv"] == Fnv1a64Hex("Hello, world!"));
  CHECK(j["headers"]["transfer-encoding"] == "chunked");
}

TEST_CASE("echo: streams a 50 MB Content-Length body without buffering it", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const std::string body = PseudoRandomBytes(50 * 1024 * 1024);
  REQUIRE(conn.Send("POST /big HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n"));
  bool sent = true;
  for (size_t off = 0; sent && off < body.size(); off += 1024 * 1024) {
    sent = conn.Send(std::string_view(body).substr(off, 1024 * 1024));
  }
  // Read even after a failed send: an early answer (413, 431, ...) says why.
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(sent);
  REQUIRE(r.complete);
  auto j = r.Json();
  CHECK(j["body_bytes"] == body.size());
  CHECK(j["body_fnv"] == Fnv1a64Hex(body));
}

TEST_CASE("echo: /bytes/N sends N pattern bytes with Content-Length", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const uint64_t n = GENERATE(uint64_t{0}, uint64_t{1}, uint64_t{65536}, uint64_t{1048583});
  REQUIRE(conn.Send(Request("GET", "/bytes/" + std::to_string(n))));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Header("content-length") == std::to_string(n));
  CHECK_FALSE(r.chunked);
  CHECK(r.body.size() == n);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
  CHECK_FALSE(conn.IsClosed(Millis(50)));
}

TEST_CASE("echo: /chunked/N sends N pattern bytes chunked", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const uint64_t n = 200'003;
  REQUIRE(conn.Send(Request("GET", "/chunked/" + std::to_string(n))));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.chunked);
  CHECK_FALSE(r.HasHeader("content-length"));
  CHECK(r.body.size() == n);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
  // The connection stays usable after the last chunk.
  REQUIRE(conn.Send(Request("GET", "/after")));
  CHECK(conn.ReadResponse().status == 200);
}

TEST_CASE("echo: /close/N sends a close-delimited body", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const uint64_t n = 300'001;
  REQUIRE(conn.Send(Request("GET", "/close/" + std::to_string(n))));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.closed);
  CHECK_FALSE(r.reset);
  CHECK_FALSE(r.HasHeader("content-length"));
  CHECK_FALSE(r.chunked);
  CHECK(r.Header("connection") == "close");
  CHECK(r.body.size() == n);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
}

TEST_CASE("echo: /__stats counts connections and requests", "[integration][echo]") {
  EchoServer echo;
  EchoServer::Stats stats = echo.GetStats();
  CHECK(stats.connections == 1);
  CHECK(stats.requests == 0);
  REQUIRE(Curl(echo.url() + "/a").status == 200);
  REQUIRE(Curl(echo.url() + "/b").status == 200);
  stats = echo.GetStats();
  CHECK(stats.connections == 4);
  CHECK(stats.requests == 2);
}

TEST_CASE("echo: /status/CODE answers that status", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  SECTION("with a JSON body") {
    REQUIRE(conn.Send(Request("GET", "/status/418")));
    const Response r = conn.ReadResponse();
    CHECK(r.status == 418);
    CHECK(r.body == R"({"status":418})");
    CHECK(r.Header("content-type") == "application/json");
  }
  SECTION("204 without a body") {
    REQUIRE(conn.Send(Request("GET", "/status/204") + Request("GET", "/next")));
    const Response r = conn.ReadResponse();
    CHECK(r.status == 204);
    CHECK(r.body.empty());
    CHECK(conn.ReadResponse().Json()["path"] == "/next");
  }
  SECTION("out of range is 400") {
    REQUIRE(conn.Send(Request("GET", "/status/99")));
    CHECK(conn.ReadResponse().status == 400);
  }
}

TEST_CASE("echo: delayed answers are normal echo answers", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const std::string target = GENERATE(std::string("/delay/50"), std::string("/headers-delay/50"),
                                      std::string("/q?sleep=50"));
  REQUIRE(conn.Send(Request("GET", target)));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Json()["service"] == "echo");
}

TEST_CASE("echo: /reset-now resets without a response", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("GET", "/reset-now")));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK_FALSE(r.complete);
  CHECK(r.status == 0);
  CHECK(r.closed);
  CHECK(r.reset);
}

TEST_CASE("echo: /reset-mid resets after part of the body", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("GET", "/reset-mid")));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK_FALSE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Header("content-length") == "1000000");
  CHECK(r.closed);
  CHECK(r.body.size() <= 1000);
  CHECK(FirstPatternMismatch(r.body) == std::string::npos);
}

TEST_CASE("echo: /garbage answers a malformed status line", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("GET", "/garbage")));
  CHECK(conn.ReadUntilClose() == "HTTP/1.1 abc\r\n\r\n");
}

TEST_CASE("echo: /close-after answers and closes", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("GET", "/close-after")));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Header("connection") == "close");
  CHECK(conn.IsClosed(Millis(5000)));
}

TEST_CASE("echo: HTTP/1.0 closes unless keep-alive is asked for", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  SECTION("plain HTTP/1.0") {
    REQUIRE(conn.Send("GET /old HTTP/1.0\r\n\r\n"));
    const Response r = conn.ReadResponse();
    INFO(r.Describe());
    REQUIRE(r.complete);
    CHECK(r.Json()["http_version"] == "1.0");
    CHECK(r.Header("connection") == "close");
    CHECK(conn.IsClosed(Millis(5000)));
  }
  SECTION("HTTP/1.0 with Connection: keep-alive") {
    REQUIRE(conn.Send("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const Response r = conn.ReadResponse();
    CHECK(r.Header("connection") == "keep-alive");
    REQUIRE(conn.Send("GET /again HTTP/1.0\r\n\r\n"));
    CHECK(conn.ReadResponse().Json()["path"] == "/again");
  }
  SECTION("/chunked/N falls back to a close-delimited body") {
    REQUIRE(conn.Send("GET /chunked/1000 HTTP/1.0\r\n\r\n"));
    const Response r = conn.ReadResponse();
    CHECK_FALSE(r.chunked);
    CHECK(r.closed);
    CHECK(r.body == EchoPattern(0, 1000));
  }
}

TEST_CASE("echo: HEAD gets the head without the body", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("HEAD", "/bytes/100") + Request("GET", "/bytes/3")));
  const Response head = conn.ReadResponse(/*head_request=*/true);
  CHECK(head.status == 200);
  CHECK(head.Header("content-length") == "100");
  CHECK(head.body.empty());
  CHECK(conn.ReadResponse().body == "abc");
}

TEST_CASE("echo: a malformed request gets 400 and a close", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send("GET / HTP/1.1\r\nHost: x\r\n\r\n"));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK(r.status == 400);
  CHECK(r.Header("connection") == "close");
  CHECK(conn.IsClosed(Millis(5000)));
}

TEST_CASE("echo: /slow-read still reads the whole body", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  const std::string body = EchoPattern(7, 50 * 1024);
  REQUIRE(conn.Send(Request("PUT", "/slow-read", "localhost", "", body)));
  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  REQUIRE(r.complete);
  CHECK(r.Json()["body_bytes"] == body.size());
  CHECK(r.Json()["body_fnv"] == Fnv1a64Hex(body));
}

TEST_CASE("echo: skips 100 Continue and reads the final answer", "[integration][echo]") {
  EchoServer echo;
  RawConn conn(echo.port());
  REQUIRE(conn.Send(Request("POST", "/expect", "localhost", "Expect: 100-continue\r\n", "xyz")));
  const Response r = conn.ReadResponse();
  CHECK(r.status == 200);
  CHECK(r.Json()["body_bytes"] == 3);
}

TEST_CASE("echo: exits 0 on SIGTERM and SIGINT", "[integration][echo]") {
  EchoServer echo;
  RawConn idle(echo.port());  // an open connection must not hold the exit up
  const int sig = GENERATE(SIGTERM, SIGINT);
  echo.process().Signal(sig);
  CHECK(echo.process().Wait(Millis(10000)) == 0);
  CHECK(idle.IsClosed(Millis(5000)));
}

TEST_CASE("harness: processes, temp dirs and curl report failures as data",
          "[integration][harness]") {
  SECTION("a missing program throws at spawn") {
    CHECK_THROWS_WITH(Process::Spawn({"/nonexistent/program"}),
                      Catch::Contains("No such file or directory"));
  }
  SECTION("exit codes and signals") {
    Process p = Process::Spawn({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(p.Wait(Millis(10000)) == 3);
    CHECK(p.ReadStdout() == "out\n");
    CHECK(p.ReadStderr() == "err\n");
    Process sleeper = Process::Spawn({"sleep", "30"});
    CHECK_FALSE(sleeper.Wait(Millis(20)).has_value());
    sleeper.Signal(SIGTERM);
    CHECK(sleeper.Wait(Millis(10000)) == 128 + SIGTERM);
  }
  SECTION("temp dir files") {
    TempDir dir;
    const std::string path = dir.WriteFile("a.txt", "hello");
    CHECK(path == dir.path() + "/a.txt");
    Process cat = Process::Spawn({"cat", path});
    CHECK(cat.Wait(Millis(10000)) == 0);
    CHECK(cat.ReadStdout() == "hello");
  }
  SECTION("curl against a closed port") {
    const ClosedPort closed;
    const CurlResult r = Curl("http://127.0.0.1:" + std::to_string(closed.port()) + "/");
    CHECK(r.exit_code == 7);
    CHECK(r.status == 0);
  }
  SECTION("substitution") {
    CHECK(Substitute("a ${X} b ${Y} ${Z}", {{"X", "1"}, {"Y", "2"}}) == "a 1 b 2 ${Z}");
  }
}

}  // namespace
}  // namespace sluice::testing

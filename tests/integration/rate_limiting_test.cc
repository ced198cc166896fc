// SPDX-License-Identifier: Apache-2.0
// rate-limiting end to end: build/sluice with two workers (each request on a new connection, so
// both workers serve them), sluice-echo upstreams and a real redis-server; checked against
// reference/kong.md §5 (counts, headers, 429 body, fault tolerance) and the token bucket.
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"
#include "tests/support/redis.h"

namespace sluice::testing {
namespace {

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: local
        paths: ["/local"]
        plugins:
          - name: rate-limiting
            config: {hour: 5, limit_by: ip}
      - name: burst
        paths: ["/burst"]
        plugins:
          - name: rate-limiting
            config: {hour: 10, limit_by: ip}
      - name: hidden
        paths: ["/hidden"]
        plugins:
          - name: rate-limiting
            config: {hour: 1, hide_client_headers: true, error_code: 503,
                     error_message: "slow down"}
      - name: by-header
        paths: ["/by-header"]
        plugins:
          - name: rate-limiting
            config: {hour: 2, limit_by: header, header_name: X-Api-Key}
      - name: redis
        paths: ["/redis"]
        plugins:
          - name: rate-limiting
            config: {hour: 3, limit_by: ip, policy: redis,
                     redis: {host: 127.0.0.1, port: ${REDIS_PORT}, timeout: 500}}
      - name: redis-down-tolerant
        paths: ["/down-tolerant"]
        plugins:
          - name: rate-limiting
            config: {hour: 1, policy: redis, redis_host: 127.0.0.1,
                     redis_port: ${CLOSED_PORT}}
      - name: redis-down-strict
        paths: ["/down-strict"]
        plugins:
          - name: rate-limiting
            config: {hour: 1, policy: redis, redis_host: 127.0.0.1,
                     redis_port: ${CLOSED_PORT}, fault_tolerant: false}
      - name: bucket
        paths: ["/bucket"]
        plugins:
          - name: rate-limiting
            config: {algorithm: token-bucket, rate: 0.5, burst: 3}
)";

// The hour window must not roll over while a test counts: wait out its last seconds.
void AvoidHourEdge() {
  using std::chrono::system_clock;
  const auto now = system_clock::now().time_since_epoch();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  const int64_t left = 3'600'000 - ms % 3'600'000;
  if (left < 20'000)
    std::this_thread::sleep_for(std::chrono::milliseconds(left + 100));
}

struct Gateway {
  Gateway()
      : sluice(Substitute(kConfig, {{"MAIN", main.url()},
                                    {"REDIS_PORT", std::to_string(redis.port())},
                                    {"CLOSED_PORT", std::to_string(closed.port())}}),
               Options()) {}

  static SluiceOptions Options() {
    SluiceOptions o;
    o.workers = 2;
    return o;
  }

  // One request on a fresh connection (the kernel spreads connections over both workers).
  Response Get(const std::string& path, const std::string& extra = "") {
    RawConn conn(sluice.port());
    REQUIRE(conn.Send(Request("GET", path, "localhost", extra + "Connection: close\r\n")));
    Response r = conn.ReadResponse();
    INFO(r.Describe());
    REQUIRE(r.complete);
    return r;
  }

  EchoServer main{"main"};
  RedisServer redis;
  ClosedPort closed;
  Sluice sluice;
};

bool HasRateLimitHeaders(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name.rfind("x-ratelimit-", 0) == 0 || name.rfind("ratelimit-", 0) == 0 ||
        name == "retry-after") {
      return true;
    }
  }
  return false;
}

TEST_CASE("rate-limiting: local policy counts exactly across workers, then 429",
          "[integration][rate-limiting]") {
  AvoidHourEdge();
  Gateway gw;
  for (int i = 0; i < 5; ++i) {
    Response r = gw.Get("/local");
    INFO("request " << i << ": " << r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Header("x-ratelimit-limit-hour") == "5");
    CHECK(r.Header("x-ratelimit-remaining-hour") == std::to_string(4 - i));
    CHECK(r.Header("ratelimit-limit") == "5");
    CHECK(r.Header("ratelimit-remaining") == std::to_string(4 - i));
    const int reset = std::stoi(r.Header("ratelimit-reset"));
    CHECK((reset >= 1 && reset <= 3600));
    CHECK_FALSE(r.HasHeader("retry-after"));
  }
  for (int i = 0; i < 5; ++i) {
    Response r = gw.Get("/local");
    INFO(r.Describe());
    CHECK(r.status == 429);
    CHECK(r.Header("content-type") == "application/json; charset=utf-8");
    CHECK(r.Json()["message"] == "API rate limit exceeded");
    CHECK(r.Header("x-ratelimit-limit-hour") == "5");
    CHECK(r.Header("x-ratelimit-remaining-hour") == "0");
    CHECK(r.Header("ratelimit-remaining") == "0");
    CHECK(r.Header("retry-after") == r.Header("ratelimit-reset"));
    CHECK_FALSE(r.Header("retry-after").empty());
  }
  // Refused requests never reached the upstream: exactly the five allowed ones did.
  CHECK(gw.main.GetStats().requests == 5);
}

TEST_CASE("rate-limiting: concurrent requests on both workers, exactly the limit passes",
          "[integration][rate-limiting]") {
  AvoidHourEdge();
  Gateway gw;
  constexpr int kClients = 30;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      try {
        RawConn conn(gw.sluice.port());
        if (conn.Send(Request("GET", "/burst", "localhost", "Connection: close\r\n")))
          statuses[i] = conn.ReadResponse().status;
      } catch (const std::exception&) {
        statuses[i] = -1;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  int ok = 0, limited = 0;
  for (int s : statuses) {
    ok += s == 200 ? 1 : 0;
    limited += s == 429 ? 1 : 0;
  }
  CHECK(ok == 10);
  CHECK(limited == kClients - 10);
  CHECK(gw.main.GetStats().requests == 10);
}

TEST_CASE("rate-limiting: hide_client_headers, error_code and error_message",
          "[integration][rate-limiting]") {
  AvoidHourEdge();
  Gateway gw;
  Response ok = gw.Get("/hidden");
  CHECK(ok.status == 200);
  CHECK_FALSE(HasRateLimitHeaders(ok));
  Response limited = gw.Get("/hidden");
  CHECK(limited.status == 503);
  CHECK(limited.Json()["message"] == "slow down");
  CHECK_FALSE(HasRateLimitHeaders(limited));
}

TEST_CASE("rate-limiting: limit_by header, with the IP fallback", "[integration][rate-limiting]") {
  AvoidHourEdge();
  Gateway gw;
  CHECK(gw.Get("/by-header", "X-Api-Key: a\r\n").status == 200);
  CHECK(gw.Get("/by-header", "X-Api-Key: a\r\n").status == 200);
  CHECK(gw.Get("/by-header", "X-Api-Key: a\r\n").status == 429);
  Response b = gw.Get("/by-header", "X-Api-Key: b\r\n");
  CHECK(b.status == 200);
  CHECK(b.Header("x-ratelimit-remaining-hour") == "1");
  CHECK(gw.Get("/by-header").status == 200);  // no header: counted by client IP
  CHECK(gw.Get("/by-header").status == 200);
  CHECK(gw.Get("/by-header").status == 429);
}

TEST_CASE("rate-limiting: redis policy counts in Redis with Kong's keys",
          "[integration][rate-limiting][redis]") {
  AvoidHourEdge();
  Gateway gw;
  for (int i = 0; i < 3; ++i) {
    Response r = gw.Get("/redis");
    INFO(r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Header("x-ratelimit-remaining-hour") == std::to_string(2 - i));
  }
  Response limited = gw.Get("/redis");
  CHECK(limited.status == 429);
  CHECK(limited.Header("x-ratelimit-remaining-hour") == "0");
  CHECK(gw.main.GetStats().requests == 3);

  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::string suffix = ":127.0.0.1:" + std::to_string(now_ms - now_ms % 3'600'000) + ":hour";
  const std::string keys = gw.redis.Command({"KEYS", "ratelimit:*"});
  INFO(keys);
  // One key: ratelimit:<route id>:<service id>:<ip>:<window start ms>:hour, counting the
  // refused request too (Kong's synchronous redis policy).
  REQUIRE(keys.rfind("*1\r\n", 0) == 0);
  const size_t key_start = keys.find("ratelimit:");
  const std::string key = keys.substr(key_start, keys.rfind("\r\n") - key_start);
  CHECK(key.size() > suffix.size());
  CHECK(key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0);
  CHECK(gw.redis.Command({"GET", key}) == "$1\r\n4\r\n");
  const std::string ttl = gw.redis.Command({"TTL", key});
  CHECK(ttl.rfind(":", 0) == 0);
  CHECK(std::stoi(ttl.substr(1)) > 0);
}

TEST_CASE("rate-limiting: Redis down, fault_tolerant lets traffic through or answers 500",
          "[integration][rate-limiting][redis]") {
  Gateway gw;
  for (int i = 0; i < 3; ++i) {  // over the limit of 1: nothing counts while Redis is down
    Response r = gw.Get("/down-tolerant");
    CHECK(r.status == 200);
    CHECK_FALSE(HasRateLimitHeaders(r));
  }
  Response strict = gw.Get("/down-strict");
  CHECK(strict.status == 500);
  CHECK(strict.Json()["message"] == "An unexpected error occurred");
}

TEST_CASE("rate-limiting: token bucket gives burst, then Retry-After until the next token",
          "[integration][rate-limiting]") {
  Gateway gw;
  for (int i = 0; i < 3; ++i) {
    Response r = gw.Get("/bucket");
    INFO(r.Describe());
    CHECK(r.status == 200);
    CHECK(r.Header("ratelimit-limit") == "3");
    CHECK(r.Header("ratelimit-remaining") == std::to_string(2 - i));
  }
  Response limited = gw.Get("/bucket");
  INFO(limited.Describe());
  CHECK(limited.status == 429);
  CHECK(limited.Json()["message"] == "API rate limit exceeded");
  CHECK(limited.Header("ratelimit-remaining") == "0");
  // A token every 2 s: the next one is at most 2 s away.
  const std::string retry = limited.Header("retry-after");
  CHECK((retry == "1" || retry == "2"));
  CHECK(gw.main.GetStats().requests == 3);
}

}  // namespace
}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
// net::Resolver against a real DNS server on the loopback (tests/support/dns_server.h).
#include "core/net/resolver.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include "tests/support/dns_server.h"
#include "tests/support/run_loop.h"

namespace sluice::net {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Answer {
  int calls = 0;
  Resolution r;
};

void Record(void* owner, const Resolution& r) {
  auto* a = static_cast<Answer*>(owner);
  ++a->calls;
  a->r = r;
}

// A loop with a resolver pointed at `dns`; the destructor requires the loop to wind down.
struct Fixture {
  explicit Fixture(const testing::DnsServer& dns, uint64_t timeout_ms = 2000, int tries = 2) {
    REQUIRE(uv_loop_init(&loop) == 0);
    ResolverOptions o;
    o.servers = dns.address();
    o.timeout_ms = timeout_ms;
    o.tries = tries;
    auto r = Resolver::Create(&loop, o);
    REQUIRE(r.ok());
    resolver = std::move(r).value();
  }

  ~Fixture() {
    resolver.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }

  uv_loop_t loop;
  std::unique_ptr<Resolver> resolver;
};

TEST_CASE("resolver: an A record answers with its address and TTL", "[net][dns]") {
  testing::DnsServer dns;
  dns.Set("api.sluice.test", "127.0.0.7", 42);
  Fixture f(dns);
  Answer a;
  REQUIRE(f.resolver->Resolve("api.sluice.test", 8080, Record, &a) != nullptr);
  REQUIRE(testing::RunUntil(
      &f.loop, [&] { return a.calls > 0; }, milliseconds(10000)));
  CHECK(a.calls == 1);
  CHECK(a.r.status == 0);
  REQUIRE(a.r.addresses.size() == 1);
  CHECK(a.r.addresses[0].ToString() == "127.0.0.7:8080");
  CHECK(a.r.ttl_s == 42);
  CHECK(dns.Queries("api.sluice.test") == 1);
}

TEST_CASE("resolver: every A record of an answer is kept, sorted", "[net][dns]") {
  testing::DnsServer dns;
  dns.SetRecords("pool.sluice.test", {"127.0.0.9", "127.0.0.3", "127.0.0.6", "127.0.0.3"}, 30);
  Fixture f(dns);
  Answer a;
  f.resolver->Resolve("pool.sluice.test", 80, Record, &a);
  REQUIRE(testing::RunUntil(
      &f.loop, [&] { return a.calls > 0; }, milliseconds(10000)));
  REQUIRE(a.r.status == 0);
  std::vector<std::string> got;
  for (const Address& x : a.r.addresses)
    got.push_back(x.ToString());
  CHECK(got == std::vector<std::string>{"127.0.0.3:80", "127.0.0.6:80", "127.0.0.9:80"});
  CHECK(a.r.ttl_s == 30);
}

TEST_CASE("resolver: an unknown name fails with UV_EAI_NONAME", "[net][dns]") {
  testing::DnsServer dns;
  Fixture f(dns);
  Answer a;
  f.resolver->Resolve("nowhere.sluice.test", 80, Record, &a);
  REQUIRE(testing::RunUntil(
      &f.loop, [&] { return a.calls > 0; }, milliseconds(10000)));
  CHECK(a.r.status == UV_EAI_NONAME);
}

TEST_CASE("resolver: a server that does not answer times out", "[net][dns]") {
  testing::DnsServer dns;
  dns.Set("slow.sluice.test", "127.0.0.7", 60);
  dns.SetDelay(milliseconds(3000));
  Fixture f(dns, /*timeout_ms=*/200, /*tries=*/1);
  Answer a;
  const auto start = Clock::now();
  f.resolver->Resolve("slow.sluice.test", 80, Record, &a);
  REQUIRE(testing::RunUntil(
      &f.loop, [&] { return a.calls > 0; }, milliseconds(10000)));
  CHECK(a.r.status == UV_EAI_AGAIN);
  CHECK(Clock::now() - start < milliseconds(2500));  // gave up well before the answer came
}

TEST_CASE("resolver: an /etc/hosts name answers inside Resolve", "[net][dns]") {
  testing::DnsServer dns;
  Fixture f(dns);
  Answer a;
  CHECK(f.resolver->Resolve("localhost", 9000, Record, &a) == nullptr);
  CHECK(a.calls == 1);
  CHECK(a.r.status == 0);
  REQUIRE_FALSE(a.r.addresses.empty());
  const std::string first = a.r.addresses[0].ToString();
  CHECK((first == "127.0.0.1:9000" || first == "[::1]:9000"));
  CHECK(dns.Queries("localhost") == 0);
}

TEST_CASE("resolver: a cancelled lookup is never answered, destruction answers the rest",
          "[net][dns]") {
  testing::DnsServer dns;
  dns.Set("api.sluice.test", "127.0.0.7", 60);
  dns.SetDelay(milliseconds(300));
  Answer cancelled;
  Answer pending;
  {
    Fixture f(dns);
    Resolver::Lookup* l = f.resolver->Resolve("api.sluice.test", 80, Record, &cancelled);
    REQUIRE(l != nullptr);
    Resolver::Cancel(l);
    f.resolver->Resolve("api.sluice.test", 81, Record, &pending);
    f.resolver.reset();
    CHECK(pending.calls == 1);
    CHECK(pending.r.status == UV_EAI_CANCELED);
  }
  CHECK(cancelled.calls == 0);
}

TEST_CASE("resolver: a malformed server list is refused", "[net][dns]") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  ResolverOptions o;
  o.servers = "not-an-address";
  auto r = Resolver::Create(&loop, o);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("expected IP[:PORT]") != std::string::npos);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace sluice::net

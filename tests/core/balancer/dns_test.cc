// SPDX-License-Identifier: Apache-2.0
// Hostname targets against a real DNS server on the loopback: the lookup before a config goes
// live, refresh on the record's TTL, stale addresses kept on failure.
#include "core/balancer/dns.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <catch2/catch.hpp>
#include <uv.h>

#include "core/balancer/health_checker.h"
#include "core/balancer/health_report.h"
#include "tests/support/dns_server.h"
#include "tests/support/harness.h"
#include "tests/support/run_loop.h"

namespace sluice::balancer {
namespace {

using Clock = std::chrono::steady_clock;
using sluice::testing::RunUntil;
using std::chrono::milliseconds;

constexpr char kName[] = "api.sluice.test";

// Upstream "svc": the hostname target api.sluice.test:8000 and a numeric one. `previous`
// donates target state, as on a reload.
std::shared_ptr<const Set> HostnameSet(const Set* previous = nullptr) {
  config::Upstream u;
  u.name = "svc";
  config::Target named;
  named.host = kName;
  named.port = 8000;
  named.target = "api.sluice.test:8000";
  config::Target numeric;
  numeric.host = "10.0.0.1";
  numeric.port = 80;
  numeric.target = "10.0.0.1:80";
  u.targets = {named, numeric};
  config::Config cfg;
  cfg.upstreams.push_back(u);
  return Set::Build(cfg, {}, previous);
}

std::string AddressOf(const TargetState& s) {
  net::Address a;
  return s.address.Load(&a) ? a.ToString() : "";
}

net::ResolverOptions ServersOf(const testing::DnsServer& dns) {
  net::ResolverOptions o;
  o.servers = dns.address();
  return o;
}

// Resolves the set's new targets on `loop`; true once `done` ran with `live`.
bool Prime(uv_loop_t* loop, net::Resolver* r, std::shared_ptr<const Set> set,
           const DnsPolicy& policy) {
  int calls = 0;
  bool live = false;
  ResolveNewTargets(r, std::move(set), policy, [&](bool l) {
    ++calls;
    live = l;
  });
  RunUntil(
      loop, [&] { return calls > 0; }, milliseconds(10000));
  return calls == 1 && live;
}

struct Loop {
  Loop() { REQUIRE(uv_loop_init(&loop) == 0); }

  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }

  uv_loop_t loop;
};

TEST_CASE("dns: new hostname targets are looked up before a config goes live", "[balancer][dns]") {
  testing::DnsServer dns;
  dns.Set(kName, "127.0.0.5", 60);
  Loop l;
  auto resolver = net::Resolver::Create(&l.loop, ServersOf(dns));
  REQUIRE(resolver.ok());
  auto set = HostnameSet();
  const Upstream& up = set->at(0);
  REQUIRE(ReportHealth(up)[0].health == Health::kDnsError);  // not resolved yet
  CHECK(ReportHealth(up)[0].reason == "dns: not resolved yet");
  CHECK(AddressOf(up.state(1)) == "10.0.0.1:80");  // numeric: ready at once

  REQUIRE(Prime(&l.loop, resolver->get(), set, {}));
  CHECK(AddressOf(up.state(0)) == "127.0.0.5:8000");
  CHECK(ReportHealth(up)[0].health == Health::kHealthchecksOff);
  CHECK(dns.Queries(kName) == 1);

  // Nothing left to look up: done runs at once, without a query.
  bool ran = false;
  ResolveNewTargets(resolver->get(), set, {}, [&](bool live) { ran = live; });
  CHECK(ran);
  CHECK(dns.Queries(kName) == 1);

  // A reload hands the resolved state to the same target: nothing new to look up.
  auto next = HostnameSet(set.get());
  CHECK(AddressOf(next->at(0).state(0)) == "127.0.0.5:8000");
  ran = false;
  ResolveNewTargets(resolver->get(), next, {}, [&](bool live) { ran = live; });
  CHECK(ran);
  CHECK(dns.Queries(kName) == 1);
  resolver->reset();
}

TEST_CASE("dns: a name with several addresses hands them out in turn", "[balancer][dns]") {
  testing::DnsServer dns;
  dns.SetRecords(kName, {"127.0.0.7", "127.0.0.5", "127.0.0.6"}, 60);
  Loop l;
  auto resolver = net::Resolver::Create(&l.loop, ServersOf(dns));
  REQUIRE(resolver.ok());
  auto set = HostnameSet();
  const Upstream& up = set->at(0);
  REQUIRE(Prime(&l.loop, resolver->get(), set, {}));
  resolver->reset();
  REQUIRE(up.state(0).address.count() == 3);
  CHECK(ReportHealth(up)[0].addresses ==
        std::vector<std::string>{"127.0.0.5:8000", "127.0.0.6:8000", "127.0.0.7:8000"});
  auto use = [&](int times, uint64_t now_ms) {
    std::map<std::string, int> used;
    for (int k = 0; k < times; ++k) {
      Selection sel{0, false};
      net::Address a;
      REQUIRE(up.AddressOf(&sel, now_ms, &a));
      ++used[a.ToString()];
      up.Report(sel, {Result::Kind::kResponse, 200, 1000}, now_ms);
    }
    return used;
  };
  CHECK(use(9, 1000) == std::map<std::string, int>{
                            {"127.0.0.5:8000", 3}, {"127.0.0.6:8000", 3}, {"127.0.0.7:8000", 3}});

  // A slow answer says nothing about the address: it stays in the rotation.
  Selection slow{0, false};
  net::Address slow_addr;
  REQUIRE(up.AddressOf(&slow, 1000, &slow_addr));
  up.Report(slow, {Result::Kind::kTimeout, 0, 0, /*connecting=*/false}, 1000);
  CHECK(use(9, 1000).size() == 3);

  // An address that refused a connection sits out 10 s; the others share its turns.
  Selection failed{0, false};
  net::Address a;
  REQUIRE(up.AddressOf(&failed, 1000, &a));
  up.Report(failed, {Result::Kind::kConnectFailure, 0, 0, /*connecting=*/true}, 1000);
  const auto during = use(8, 2000);
  CHECK(during.count(a.ToString()) == 0);
  CHECK(during.size() == 2);
  CHECK(use(9, 11001).size() == 3);  // back after the 10 s
}

TEST_CASE("dns: an address that fails its probes leaves the rotation, the target stays healthy",
          "[balancer][dns]") {
  testing::EchoServer echo;  // 127.0.0.1 only: 127.0.0.2 on the same port refuses
  testing::DnsServer dns;
  dns.SetRecords(kName, {"127.0.0.1", "127.0.0.2"}, 60);
  config::Upstream u;
  u.name = "svc";
  config::Target t;
  t.host = kName;
  t.port = echo.port();
  t.target = absl::StrCat(kName, ":", echo.port());
  u.targets = {t};
  auto& a = u.healthchecks.active;
  a.healthy.interval = 1;
  a.unhealthy.interval = 1;
  a.healthy.successes = 1;
  a.unhealthy.tcp_failures = 1;
  config::Config cfg;
  cfg.upstreams.push_back(u);
  auto set = Set::Build(cfg, {}, nullptr);
  const Upstream& up = set->at(0);
  const TargetState& s = up.state(0);

  Loop l;
  auto resolver = net::Resolver::Create(&l.loop, ServersOf(dns));
  REQUIRE(resolver.ok());
  REQUIRE(Prime(&l.loop, resolver->get(), set, {}));
  resolver->reset();
  REQUIRE(s.address.count() == 2);
  HealthChecker checker(&l.loop, {ServersOf(dns), {}});
  checker.Update(set);
  // Sorted: index 1 is 127.0.0.2, which refuses. Three probes reach both addresses.
  REQUIRE(RunUntil(
      &l.loop, [&] { return s.address.Ejected(1, uv_now(&l.loop)); }, milliseconds(10000)));
  RunUntil(
      &l.loop, [] { return false; }, milliseconds(2200));
  CHECK(s.health.healthy());
  CHECK(s.became_unhealthy.load() == 0);
  CHECK_FALSE(s.address.Ejected(0, uv_now(&l.loop)));
  Selection sel{0, false};
  net::Address picked;
  for (int k = 0; k < 4; ++k) {
    REQUIRE(up.AddressOf(&sel, uv_now(&l.loop), &picked));
    CHECK(picked.ToString() == absl::StrCat("127.0.0.1:", echo.port()));
  }

  // The last address goes too: now the target is down.
  echo.process().Kill();
  REQUIRE(RunUntil(
      &l.loop, [&] { return !s.health.healthy(); }, milliseconds(10000)));
  checker.Stop();
}

TEST_CASE("dns: the checker looks a name up again when its TTL expires", "[balancer][dns]") {
  testing::DnsServer dns;
  dns.Set(kName, "127.0.0.5", 1);
  Loop l;
  auto resolver = net::Resolver::Create(&l.loop, ServersOf(dns));
  REQUIRE(resolver.ok());
  auto set = HostnameSet();
  const Upstream& up = set->at(0);
  REQUIRE(Prime(&l.loop, resolver->get(), set, {}));
  resolver->reset();
  REQUIRE(AddressOf(up.state(0)) == "127.0.0.5:8000");
  const auto primed = Clock::now();

  dns.Set(kName, "127.0.0.6", 1);
  HealthChecker checker(&l.loop, {ServersOf(dns), {}});
  checker.Update(set);
  // Not before the TTL: the primed answer is still fresh for a second.
  RunUntil(
      &l.loop, [] { return false; }, milliseconds(300));
  if (Clock::now() - primed < milliseconds(500))
    CHECK(dns.Queries(kName) == 1);
  REQUIRE(RunUntil(
      &l.loop, [&] { return AddressOf(up.state(0)) == "127.0.0.6:8000"; }, milliseconds(10000)));
  CHECK(Clock::now() - primed >= milliseconds(500));
  CHECK(dns.Queries(kName) >= 2);
  checker.Stop();
}

TEST_CASE("dns: a name that did not resolve is retried, a failed refresh keeps the address",
          "[balancer][dns]") {
  testing::DnsServer dns;  // no record yet: NXDOMAIN
  Loop l;
  auto resolver = net::Resolver::Create(&l.loop, ServersOf(dns));
  REQUIRE(resolver.ok());
  auto set = HostnameSet();
  const Upstream& up = set->at(0);
  DnsPolicy policy;
  policy.not_found_ms = 200;
  REQUIRE(Prime(&l.loop, resolver->get(), set, policy));
  resolver->reset();
  auto row = ReportHealth(up)[0];
  CHECK(row.health == Health::kDnsError);
  CHECK(row.reason == std::string("dns: ") + uv_strerror(UV_EAI_NONAME));

  HealthChecker checker(&l.loop, {ServersOf(dns), policy});
  checker.Update(set);
  dns.Set(kName, "127.0.0.5", 1);
  REQUIRE(RunUntil(
      &l.loop, [&] { return AddressOf(up.state(0)) == "127.0.0.5:8000"; }, milliseconds(10000)));
  CHECK(ReportHealth(up)[0].health == Health::kHealthchecksOff);

  // The record goes away: the next lookups fail, the target keeps its last address.
  const int before = dns.Queries(kName);
  dns.Remove(kName);
  REQUIRE(RunUntil(
      &l.loop, [&] { return dns.Queries(kName) >= before + 2; }, milliseconds(10000)));
  CHECK(AddressOf(up.state(0)) == "127.0.0.5:8000");
  CHECK(up.state(0).dns_error.load() == 0);
  CHECK(ReportHealth(up)[0].health == Health::kHealthchecksOff);
  checker.Stop();
}

}  // namespace
}  // namespace sluice::balancer

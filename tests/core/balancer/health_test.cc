// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/health.h"

#include <catch2/catch.hpp>
#include <uv.h>

#include "core/balancer/health_report.h"
#include "tests/core/balancer/fixtures.h"

namespace sluice::balancer {
namespace {

using testing::Make;
using testing::MakeConfig;

void Respond(const Upstream& up, size_t i, Result r) {
  Selection sel{static_cast<int>(i), false};
  up.state(i).in_flight.fetch_add(1);
  up.Report(sel, r, 0);
}

Result Status(int code) { return {Result::Kind::kResponse, code, 0}; }

config::Config ConfigOf(const config::Upstream& u) {
  config::Config c;
  c.upstreams.push_back(u);
  return c;
}

TEST_CASE("health: passive thresholds follow Kong's counters", "[balancer]") {
  auto cfg = MakeConfig("round-robin", {100, 100});
  cfg.healthchecks.passive.unhealthy.http_failures = 3;
  cfg.healthchecks.passive.unhealthy.tcp_failures = 2;
  cfg.healthchecks.passive.unhealthy.timeouts = 1;
  auto up = Make(cfg);
  const HealthCell& h = up->state(0).health;

  SECTION("http failures count only the unhealthy statuses, and a success resets them") {
    Respond(*up, 0, Status(500));
    Respond(*up, 0, Status(503));
    Respond(*up, 0, Status(404));  // in neither list: no effect
    CHECK(h.counter(HealthEvent::kHttpFailure) == 2);
    Respond(*up, 0, Status(200));  // a success clears the failures
    CHECK(h.counter(HealthEvent::kHttpFailure) == 0);
    Respond(*up, 0, Status(500));
    Respond(*up, 0, Status(429));
    CHECK(h.healthy());
    Respond(*up, 0, Status(500));
    CHECK_FALSE(h.healthy());
    auto rows = ReportHealth(*up);
    CHECK(rows[0].health == Health::kUnhealthy);
    CHECK(rows[0].reason == "passive check: 3 http failures, last status 500");
    CHECK(rows[0].became_unhealthy == 1);
    CHECK(rows[1].health == Health::kHealthy);
    // Only the healthy target takes traffic now.
    Picker p(*up);
    for (int k = 0; k < 5; ++k) {
      Selection sel = p.Pick({}, 0);
      CHECK(sel.index == 1);
      up->Report(sel, {}, 0);
    }
  }

  SECTION("tcp failures and timeouts have their own limits") {
    Respond(*up, 0, {Result::Kind::kConnectFailure, 0, 0});
    CHECK(h.healthy());
    Respond(*up, 0, {Result::Kind::kConnectFailure, 0, 0});
    CHECK_FALSE(h.healthy());
    CHECK(ReportHealth(*up)[0].reason == "passive check: 2 tcp failures");
    Respond(*up, 1, {Result::Kind::kTimeout, 0, 0});
    CHECK_FALSE(up->state(1).health.healthy());
  }

  SECTION("a cancelled request is no verdict") {
    for (int k = 0; k < 10; ++k)
      Respond(*up, 0, {Result::Kind::kCancelled, 0, 0});
    CHECK(h.healthy());
    CHECK(up->state(0).in_flight.load() == 0);
  }
}

TEST_CASE("health: a limit of 0 turns a counter off, successes heal", "[balancer]") {
  HealthCell cell;
  Thresholds t;
  t.http_failures = 2;
  t.successes = 3;
  CHECK(cell.Record(HealthEvent::kTcpFailure, t) == 0);  // tcp_failures 0: not counted
  CHECK(cell.counter(HealthEvent::kTcpFailure) == 0);
  CHECK(cell.Record(HealthEvent::kHttpFailure, t) == 0);
  CHECK(cell.Record(HealthEvent::kHttpFailure, t) == -1);
  CHECK_FALSE(cell.healthy());
  CHECK(cell.Record(HealthEvent::kSuccess, t) == 0);
  CHECK(cell.Record(HealthEvent::kSuccess, t) == 0);
  CHECK(cell.Record(HealthEvent::kHttpFailure, t) == 0);  // breaks the run of successes
  CHECK(cell.counter(HealthEvent::kSuccess) == 0);
  CHECK(cell.Record(HealthEvent::kSuccess, t) == 0);
  CHECK(cell.Record(HealthEvent::kSuccess, t) == 0);
  CHECK(cell.Record(HealthEvent::kSuccess, t) == +1);
  CHECK(cell.healthy());
}

TEST_CASE("health: the admin report uses Kong's health names", "[balancer]") {
  auto cfg = MakeConfig("round-robin", {100, 0});
  config::Target named;
  named.host = "db.internal";
  named.port = 5432;
  named.target = "db.internal:5432";
  cfg.targets.push_back(named);
  auto up = Make(cfg, {});
  // What a failed lookup leaves behind (ApplyResolution, dns.h).
  up->state(2).dns_error.store(UV_EAI_NONAME);

  auto json = HealthJson(*up);
  REQUIRE(json["data"].size() == 3);
  CHECK(json["next"].is_null());
  CHECK(json["data"][0] == nlohmann::json{{"target", "10.0.0.1:80"},
                                          {"address", "10.0.0.1:80"},
                                          {"addresses", {"10.0.0.1:80"}},
                                          {"weight", 100},
                                          {"health", "HEALTHCHECKS_OFF"},
                                          {"circuit_breaker", "closed"},
                                          {"active_connections", 0},
                                          {"requests", 0},
                                          {"failures", 0},
                                          {"reason", ""}});
  CHECK(json["data"][1]["reason"] == "weight 0: takes no traffic");
  CHECK(json["data"][2]["health"] == "DNS_ERROR");
  CHECK(json["data"][2]["address"] == "");
  CHECK(json["data"][2]["addresses"].empty());
  CHECK(json["data"][2]["reason"] == absl::StrCat("dns: ", uv_strerror(UV_EAI_NONAME)));
  // An unresolved target is never picked.
  Picker p(*up);
  for (int k = 0; k < 5; ++k) {
    Selection sel = p.Pick({}, 0);
    CHECK(sel.index == 0);
    up->Report(sel, {}, 0);
  }
}

TEST_CASE("health: state survives a reload for targets that stay", "[balancer]") {
  auto cfg = MakeConfig("round-robin", {100, 100});
  cfg.healthchecks.passive.unhealthy.http_failures = 1;
  auto set = Set::Build(ConfigOf(cfg), {}, nullptr);
  set->at(0).SetHealthy(0, false);
  auto next_cfg = cfg;
  next_cfg.targets[1].weight = 50;  // same targets, new weight
  auto next = Set::Build(ConfigOf(next_cfg), {}, set.get());
  CHECK_FALSE(next->at(0).state(0).health.healthy());
  CHECK(&next->at(0).state(0) == &set->at(0).state(0));
  CHECK(next->at(0).target(1).weight == 50);
  CHECK(next->IndexOf("svc") == 0);
  CHECK(next->Find("other") == nullptr);
}

}  // namespace
}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include "core/balancer/health_checker.h"
#include "core/balancer/health_report.h"
#include "core/balancer/picker.h"
#include "tests/support/harness.h"
#include "tests/support/run_loop.h"

namespace sluice::balancer {
namespace {

using sluice::testing::RunUntil;
using Clock = std::chrono::steady_clock;

config::Target Loopback(int port) {
  config::Target t;
  t.host = "127.0.0.1";
  t.port = port;
  t.target = "127.0.0.1:" + std::to_string(port);
  return t;
}

// Active checks every second: two failures make a target unhealthy, two successes healthy.
config::Upstream Probed(const std::string& path, std::vector<config::Target> targets) {
  config::Upstream u;
  u.name = "svc";
  u.targets = std::move(targets);
  auto& a = u.healthchecks.active;
  a.http_path = path;
  a.healthy.interval = 1;
  a.unhealthy.interval = 1;
  a.healthy.successes = 2;
  a.unhealthy.http_failures = 2;
  a.unhealthy.tcp_failures = 2;
  return u;
}

std::shared_ptr<const Set> SetOf(const config::Upstream& u, const Set* previous = nullptr,
                                 UpstreamOptions opts = {}) {
  config::Config cfg;
  cfg.upstreams.push_back(u);
  return Set::Build(cfg, {opts}, previous);
}

// Stops the checker and requires the loop to wind down completely.
void Finish(HealthChecker& checker, uv_loop_t* loop) {
  checker.Stop();
  uv_run(loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(loop) == 0);
}

TEST_CASE("health checker: probes mark targets unhealthy, then healthy again",
          "[balancer][checker]") {
  testing::EchoServer echo;
  testing::ClosedPort closed;
  const auto cfg = Probed("/status/500", {Loopback(echo.port()), Loopback(closed.port())});
  auto set = SetOf(cfg);
  const Upstream* up = &set->at(0);

  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  HealthChecker checker(&loop, {});
  checker.Update(set);
  REQUIRE(RunUntil(
      &loop, [&] { return !up->state(0).health.healthy() && !up->state(1).health.healthy(); },
      std::chrono::seconds(10)));
  auto rows = ReportHealth(*up);
  CHECK(rows[0].health == Health::kUnhealthy);
  CHECK(rows[0].reason == "active check: 2 http failures, last status 500");
  CHECK(rows[1].reason == "active check: 2 tcp failures, last error: connection refused");
  Picker p(*up);
  CHECK_FALSE(p.Pick({}, uv_now(&loop)));  // every target down: 503

  // A reload that fixes the path: same targets, so the state carries over and heals.
  auto fixed = cfg;
  fixed.healthchecks.active.http_path = "/status/200";
  auto set2 = SetOf(fixed, set.get());
  up = &set2->at(0);
  checker.Update(set2);
  REQUIRE(RunUntil(
      &loop, [&] { return up->state(0).health.healthy(); }, std::chrono::seconds(10)));
  CHECK(ReportHealth(*up)[0].reason == "active check: 2 successes");
  CHECK_FALSE(up->state(1).health.healthy());
  Picker q(*up);
  Selection sel = q.Pick({}, uv_now(&loop));
  CHECK(sel.index == 0);
  up->Report(sel, {}, uv_now(&loop));
  Finish(checker, &loop);
  CHECK(echo.GetStats().requests >= 4);
}

TEST_CASE("health checker: a slow answer counts as a timeout", "[balancer][checker]") {
  testing::EchoServer echo;
  auto cfg = Probed("/delay/3000", {Loopback(echo.port())});
  cfg.healthchecks.active.timeout = 0.2;
  cfg.healthchecks.active.unhealthy.timeouts = 1;
  auto set = SetOf(cfg);
  const Upstream& up = set->at(0);
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  HealthChecker checker(&loop, {});
  checker.Update(set);
  REQUIRE(RunUntil(
      &loop, [&] { return !up.state(0).health.healthy(); }, std::chrono::seconds(10)));
  CHECK(ReportHealth(up)[0].reason == "active check: 1 timeouts");
  Finish(checker, &loop);
}

TEST_CASE("health checker: at most `concurrency` probes of an upstream run at once",
          "[balancer][checker]") {
  // Four targets that each hold a probe for its whole 300 ms timeout: one at a time, the
  // fourth verdict cannot come before 1.2 s (all at once, it would come after 0.3 s).
  std::vector<std::unique_ptr<testing::EchoServer>> echoes;
  std::vector<config::Target> targets;
  for (int i = 0; i < 4; ++i) {
    echoes.push_back(std::make_unique<testing::EchoServer>());
    targets.push_back(Loopback(echoes.back()->port()));
  }
  auto cfg = Probed("/delay/3000", targets);
  cfg.healthchecks.active.timeout = 0.3;
  cfg.healthchecks.active.unhealthy.timeouts = 1;
  cfg.healthchecks.active.concurrency = 1;
  auto set = SetOf(cfg);
  const Upstream& up = set->at(0);
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  HealthChecker checker(&loop, {});
  const auto start = Clock::now();
  checker.Update(set);
  REQUIRE(RunUntil(
      &loop,
      [&] {
        for (size_t i = 0; i < up.size(); ++i) {
          if (up.state(i).health.healthy())
            return false;
        }
        return true;
      },
      std::chrono::seconds(20)));
  CHECK(Clock::now() - start >= std::chrono::milliseconds(1150));
  Finish(checker, &loop);
}

TEST_CASE("health checker thread: updates from another thread, stops on destruction",
          "[balancer][checker]") {
  testing::ClosedPort closed;
  auto set = SetOf(Probed("/", {Loopback(closed.port())}));
  auto thread = HealthCheckerThread::Start({});
  REQUIRE(thread.ok());
  (*thread)->Update(set);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (set->at(0).state(0).health.healthy() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(set->at(0).state(0).health.healthy());
  (*thread)->Update(nullptr);
  thread->reset();
}

}  // namespace
}  // namespace sluice::balancer

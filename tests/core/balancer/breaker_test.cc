// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/breaker.h"

#include <catch2/catch.hpp>

#include "core/balancer/health_report.h"
#include "tests/core/balancer/fixtures.h"

namespace sluice::balancer {
namespace {

using testing::Make;
using testing::MakeConfig;

// The tests are the clock: every call takes the time it runs at.
TEST_CASE("breaker: closed -> open -> half-open -> closed, and open again on a failed trial",
          "[balancer]") {
  UpstreamOptions opts;
  opts.breaker.enabled = true;
  opts.breaker.failure_threshold = 3;
  opts.breaker.open_timeout_ms = 1000;
  opts.breaker.half_open_requests = 2;
  auto up = Make(MakeConfig("round-robin", {100}), opts);
  Picker p(*up);
  const Breaker& b = up->state(0).breaker;
  auto fail = [&](uint64_t now) {
    Selection sel = p.Pick({}, now);
    REQUIRE(sel);
    up->Report(sel, {Result::Kind::kResponse, 502, 0}, now);
    return sel;
  };

  // Two failures, a success (resets the count), then three failures in a row open it.
  fail(0);
  fail(0);
  up->Report(p.Pick({}, 0), {Result::Kind::kResponse, 200, 0}, 0);
  CHECK(b.consecutive_failures() == 0);
  fail(10);
  fail(10);
  CHECK(b.state() == BreakerState::kClosed);
  fail(10);
  CHECK(b.state() == BreakerState::kOpen);
  CHECK(b.opened_count() == 1);

  // Open: nothing is admitted until the open timeout has passed.
  CHECK_FALSE(p.Pick({}, 500));
  CHECK_FALSE(p.Pick({}, 1009));

  // Half-open: exactly two trials, then nothing until one reports.
  Selection t1 = p.Pick({}, 1010);
  REQUIRE(t1);
  CHECK(t1.trial);
  CHECK(b.state() == BreakerState::kHalfOpen);
  Selection t2 = p.Pick({}, 1011);
  REQUIRE(t2);
  CHECK(t2.trial);
  CHECK_FALSE(p.Pick({}, 1012));

  SECTION("a successful trial closes it") {
    up->Report(t1, {Result::Kind::kResponse, 200, 0}, 1020);
    CHECK(b.state() == BreakerState::kClosed);
    CHECK(b.closed_count() == 1);
    up->Report(t2, {Result::Kind::kResponse, 200, 0}, 1021);  // late trial: no effect
    CHECK(b.state() == BreakerState::kClosed);
    Selection normal = p.Pick({}, 1030);
    REQUIRE(normal);
    CHECK_FALSE(normal.trial);
    up->Report(normal, {}, 1030);
  }

  SECTION("a failed trial opens it again for another full timeout") {
    up->Report(t1, {Result::Kind::kTimeout, 0, 0}, 1020);
    CHECK(b.state() == BreakerState::kOpen);
    CHECK(b.opened_count() == 2);
    up->Report(t2, {Result::Kind::kResponse, 200, 0}, 1021);  // a trial of the old round
    CHECK(b.state() == BreakerState::kOpen);
    CHECK_FALSE(p.Pick({}, 2019));
    Selection t3 = p.Pick({}, 2020);
    CHECK(t3.trial);
    up->Report(t3, {}, 2020);
  }

  SECTION("a cancelled trial gives its slot back") {
    up->Report(t1, {Result::Kind::kCancelled, 0, 0}, 1020);
    CHECK(b.state() == BreakerState::kHalfOpen);
    Selection t3 = p.Pick({}, 1021);
    CHECK(t3.trial);
    up->Report(t2, {}, 1030);
    up->Report(t3, {}, 1030);
  }

  SECTION("trials that never report are replaced after another open timeout") {
    CHECK_FALSE(p.Pick({}, 2009));
    Selection t3 = p.Pick({}, 2010);
    CHECK(t3.trial);
    up->Report(t3, {}, 2011);
    CHECK(b.state() == BreakerState::kClosed);
  }

  SECTION("the admin report shows the breaker and why") {
    auto rows = ReportHealth(*up);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].breaker == BreakerState::kHalfOpen);
    CHECK(rows[0].active_connections == 2);
    CHECK(rows[0].reason == "circuit breaker half-open: trial requests only");
    CHECK(rows[0].breaker_opened == 1);
  }
}

TEST_CASE("breaker: an open target's traffic goes to the others", "[balancer]") {
  UpstreamOptions opts;
  opts.breaker.enabled = true;
  opts.breaker.failure_threshold = 1;
  auto up = Make(MakeConfig("round-robin", {100, 100}), opts);
  Picker p(*up);
  Selection s{0, false};
  up->state(0).in_flight.fetch_add(1);
  up->Report(s, {Result::Kind::kConnectFailure, 0, 0}, 0);
  for (int k = 0; k < 10; ++k) {
    Selection sel = p.Pick({}, 100);
    CHECK(sel.index == 1);
    up->Report(sel, {}, 100);
  }
  CHECK(HealthJson(*up)["data"][0]["circuit_breaker"] == "open");
}

TEST_CASE("breaker: disabled never opens, 4xx never counts", "[balancer]") {
  Breaker b;
  BreakerConfig off;
  for (int k = 0; k < 100; ++k)
    b.OnFailure(off, 0, false);
  CHECK(b.state() == BreakerState::kClosed);

  UpstreamOptions opts;
  opts.breaker.enabled = true;
  opts.breaker.failure_threshold = 2;
  auto up = Make(MakeConfig("round-robin", {100}), opts);
  Picker p(*up);
  for (int k = 0; k < 10; ++k)
    up->Report(p.Pick({}, 0), {Result::Kind::kResponse, 404, 0}, 0);
  CHECK(up->state(0).breaker.state() == BreakerState::kClosed);
}

}  // namespace
}  // namespace sluice::balancer

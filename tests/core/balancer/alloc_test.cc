// SPDX-License-Identifier: Apache-2.0
// Pick and Report must not allocate in steady state. The sanitizer's allocation hook counts
// every allocation, so the check runs in ASan builds (how the suite runs); others skip it.
#include <atomic>
#include <cstddef>

#include <catch2/catch.hpp>

#include "core/balancer/picker.h"
#include "tests/core/balancer/fixtures.h"
#include "tests/support/alloc_counter.h"

namespace sluice::balancer {
namespace {

TEST_CASE("balancer: Pick and Report do not allocate", "[balancer]") {
  if (!::sluice::alloc_count::Install()) {
    WARN("allocation counting needs an ASan build; skipped");
    return;
  }
  for (const char* algorithm :
       {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
    INFO(algorithm);
    auto cfg = testing::MakeConfig(algorithm, {100, 0, 200, 300});
    cfg.healthchecks.passive.unhealthy.http_failures = 5;
    UpstreamOptions opts;
    opts.breaker.enabled = true;
    auto up = testing::Make(cfg, opts);
    up->SetHealthy(3, false);  // an unhealthy target to skip
    Picker p(*up);
    http::HeaderMap headers;
    headers.Add("x-user", "dave");
    RequestFacts facts;
    facts.headers = &headers;
    auto round = [&](int avoid) {
      Selection sel = p.Pick(facts, 1000, avoid);
      up->Report(sel, {Result::Kind::kResponse, 200, 900}, 1000);
      return sel.index;
    };
    const int warm = round(-1);
    const long before = ::sluice::alloc_count::Count();
    for (int k = 0; k < 100; ++k)
      round(k % 2 ? warm : -1);
    CHECK(::sluice::alloc_count::Count() - before == 0);
  }
}

}  // namespace
}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/retry_budget.h"

#include <catch2/catch.hpp>

namespace sluice::balancer {
namespace {

TEST_CASE("retry budget: retries stay near the configured fraction of requests", "[balancer]") {
  RetryBudget budget({true, 20, 10});
  int allowed = 0;
  constexpr int kRequests = 10000;
  for (int k = 0; k < kRequests; ++k) {
    budget.OnRequest();
    // Every request fails and wants up to three retries: the budget must say no most times.
    for (int r = 0; r < 3; ++r)
      allowed += budget.TryRetry();
  }
  // 20 % of the requests plus the initial bucket of 10 (the first deposit finds it full).
  CHECK(allowed >= 2000);
  CHECK(allowed <= 2010);
}

TEST_CASE("retry budget: the bucket allows a burst, then refills only with traffic", "[balancer]") {
  RetryBudget budget({true, 50, 3});
  CHECK(budget.TryRetry());
  CHECK(budget.TryRetry());
  CHECK(budget.TryRetry());
  CHECK_FALSE(budget.TryRetry());
  budget.OnRequest();
  CHECK_FALSE(budget.TryRetry());  // half a token
  budget.OnRequest();
  CHECK(budget.TryRetry());
  for (int k = 0; k < 100; ++k)
    budget.OnRequest();
  CHECK(budget.tokens() == Approx(3));  // capped at min_retries
}

TEST_CASE("retry budget: disabled always allows", "[balancer]") {
  RetryBudget budget({false, 20, 10});
  for (int k = 0; k < 100; ++k)
    CHECK(budget.TryRetry());
}

}  // namespace
}  // namespace sluice::balancer

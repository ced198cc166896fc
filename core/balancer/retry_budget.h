// SPDX-License-Identifier: Apache-2.0
// A retry budget (Finagle's, Envoy's budget_percent): every request deposits a fraction of a
// token, every retry spends a whole one, so retries stay near that fraction of live traffic
// and a failing upstream is not hammered with N extra tries per request. One per upstream,
// shared by every worker through a single atomic.
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::balancer {

// Proposed YAML on the upstream: retry_budget: {enabled: true, percent: 20, min_retries: 10}.
struct RetryBudgetConfig {
  bool enabled = true;
  double percent = 20;        // retries allowed per 100 requests
  uint32_t min_retries = 10;  // bucket size: the burst allowed at start and after a quiet spell
};

class alignas(64) RetryBudget {
 public:
  explicit RetryBudget(const RetryBudgetConfig& cfg = {});

  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // A first try (not a retry) was sent. Thread-safe; no write once the bucket is full, so a
  // healthy upstream's requests do not contend on the shared line.
  void OnRequest();

  // True when a retry may be sent (a token was taken); false when the budget is spent.
  // Always true when disabled. Thread-safe.
  bool TryRetry();

  // Whole tokens left (tests, admin).
  double tokens() const { return static_cast<double>(milli_.load()) / 1000.0; }

 private:
  bool enabled_;
  int64_t deposit_;  // milli-tokens per request
  int64_t cap_;      // milli-tokens
  std::atomic<int64_t> milli_;
};

}  // namespace sluice::balancer

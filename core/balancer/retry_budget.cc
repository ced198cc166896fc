// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace sluice::balancer {

RetryBudget::RetryBudget(const RetryBudgetConfig& cfg)
    : enabled_(cfg.enabled),
      deposit_(static_cast<int64_t>(std::llround(std::clamp(cfg.percent, 0.0, 100.0) * 10.0))),
      cap_(static_cast<int64_t>(std::max<uint32_t>(cfg.min_retries, 1)) * 1000),
      milli_(cap_) {}

void RetryBudget::OnRequest() {
  if (!enabled_ || deposit_ == 0)
    return;
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur < cap_) {
    if (milli_.compare_exchange_weak(cur, std::min(cur + deposit_, cap_),
                                     std::memory_order_relaxed)) {
      return;
    }
  }
}

bool RetryBudget::TryRetry() {
  if (!enabled_)
    return true;
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur >= 1000) {
    if (milli_.compare_exchange_weak(cur, cur - 1000, std::memory_order_relaxed))
      return true;
  }
  return false;
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/breaker.h"

#include <algorithm>

namespace sluice::balancer {
namespace {

bool TimedOut(uint64_t since_ms, uint64_t now_ms, uint64_t timeout_ms) {
  return now_ms >= since_ms && now_ms - since_ms >= timeout_ms;
}

}  // namespace

const char* BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

bool Breaker::MayAdmit(const BreakerConfig& cfg, uint64_t now_ms) const {
  if (!cfg.enabled)
    return true;
  const uint64_t w = word_.load(std::memory_order_acquire);
  switch (StateOf(w)) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return TimedOut(SinceOf(w), now_ms, cfg.open_timeout_ms);
    case BreakerState::kHalfOpen:
      return TrialsOf(w) < std::clamp<uint64_t>(cfg.half_open_requests, 1, 0xffff) ||
             TimedOut(SinceOf(w), now_ms, cfg.open_timeout_ms);
  }
  return true;
}

bool Breaker::Admit(const BreakerConfig& cfg, uint64_t now_ms, bool* trial, BreakerTransition* t) {
  *trial = false;
  *t = BreakerTransition::kNone;
  if (!cfg.enabled)
    return true;
  const uint64_t limit = std::clamp<uint64_t>(cfg.half_open_requests, 1, 0xffff);
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    uint64_t next;
    BreakerTransition change = BreakerTransition::kNone;
    switch (StateOf(w)) {
      case BreakerState::kClosed:
        return true;
      case BreakerState::kOpen:
        if (!TimedOut(SinceOf(w), now_ms, cfg.open_timeout_ms))
          return false;
        next = Pack(BreakerState::kHalfOpen, 1, now_ms);
        change = BreakerTransition::kHalfOpened;
        break;
      case BreakerState::kHalfOpen:
        if (TrialsOf(w) < limit) {
          next = Pack(BreakerState::kHalfOpen, TrialsOf(w) + 1, SinceOf(w));
        } else if (TimedOut(SinceOf(w), now_ms, cfg.open_timeout_ms)) {
          next = Pack(BreakerState::kHalfOpen, 1, now_ms);  // the last round never reported
        } else {
          return false;
        }
        break;
      default:
        return true;
    }
    if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel)) {
      if (change == BreakerTransition::kHalfOpened)
        half_opened_.fetch_add(1, std::memory_order_relaxed);
      *trial = true;
      *t = change;
      return true;
    }
  }
}

BreakerTransition Breaker::OnSuccess(const BreakerConfig& cfg, uint64_t now_ms, bool trial) {
  if (!cfg.enabled)
    return BreakerTransition::kNone;
  uint64_t w = word_.load(std::memory_order_acquire);
  if (StateOf(w) == BreakerState::kClosed) {
    // Only write when there is something to reset: the common healthy path stays read-only.
    if (failures_.load(std::memory_order_relaxed) != 0)
      failures_.store(0, std::memory_order_relaxed);
    return BreakerTransition::kNone;
  }
  if (!trial || StateOf(w) != BreakerState::kHalfOpen)
    return BreakerTransition::kNone;
  while (StateOf(w) == BreakerState::kHalfOpen) {
    if (word_.compare_exchange_weak(w, Pack(BreakerState::kClosed, 0, now_ms),
                                    std::memory_order_acq_rel)) {
      failures_.store(0, std::memory_order_relaxed);
      closed_.fetch_add(1, std::memory_order_relaxed);
      return BreakerTransition::kClosed;
    }
  }
  return BreakerTransition::kNone;
}

BreakerTransition Breaker::OnFailure(const BreakerConfig& cfg, uint64_t now_ms, bool trial) {
  if (!cfg.enabled)
    return BreakerTransition::kNone;
  uint64_t w = word_.load(std::memory_order_acquire);
  if (StateOf(w) == BreakerState::kHalfOpen) {
    if (!trial)
      return BreakerTransition::kNone;
    while (StateOf(w) == BreakerState::kHalfOpen) {
      if (word_.compare_exchange_weak(w, Pack(BreakerState::kOpen, 0, now_ms),
                                      std::memory_order_acq_rel)) {
        opened_.fetch_add(1, std::memory_order_relaxed);
        return BreakerTransition::kOpened;
      }
    }
    return BreakerTransition::kNone;
  }
  if (StateOf(w) != BreakerState::kClosed)
    return BreakerTransition::kNone;
  const uint32_t n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n < std::max<uint32_t>(cfg.failure_threshold, 1))
    return BreakerTransition::kNone;
  while (StateOf(w) == BreakerState::kClosed) {
    if (word_.compare_exchange_weak(w, Pack(BreakerState::kOpen, 0, now_ms),
                                    std::memory_order_acq_rel)) {
      failures_.store(0, std::memory_order_relaxed);
      opened_.fetch_add(1, std::memory_order_relaxed);
      return BreakerTransition::kOpened;
    }
  }
  return BreakerTransition::kNone;
}

void Breaker::ReleaseTrial() {
  uint64_t w = word_.load(std::memory_order_acquire);
  while (StateOf(w) == BreakerState::kHalfOpen && TrialsOf(w) > 0) {
    if (word_.compare_exchange_weak(w, Pack(BreakerState::kHalfOpen, TrialsOf(w) - 1, SinceOf(w)),
                                    std::memory_order_acq_rel)) {
      return;
    }
  }
}

}  // namespace sluice::balancer

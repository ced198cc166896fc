// SPDX-License-Identifier: Apache-2.0
// A per-target circuit breaker shared by every worker: closed -> open after N consecutive
// failures, half-open after the open timeout (a few trial requests), closed again on a
// successful trial. Lock-free: state, trial count and timestamp live in one atomic word, so a
// transition and the reset that goes with it happen together.
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::balancer {

// Kong has no breaker; proposed YAML on the upstream:
//   circuit_breaker: {enabled: false, failure_threshold: 5, open_timeout: 30,
//                     half_open_requests: 1}
// with open_timeout in seconds like Kong's healthcheck numbers.
struct BreakerConfig {
  bool enabled = false;
  uint32_t failure_threshold = 5;    // consecutive failures that open the breaker
  uint64_t open_timeout_ms = 30000;  // open -> half-open after this long
  uint32_t half_open_requests = 1;   // trial requests admitted per half-open round
};

enum class BreakerState : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

// "closed", "open", "half_open".
const char* BreakerStateName(BreakerState s);

// What a call changed, so the caller (who knows the target's name) can log it once.
enum class BreakerTransition : uint8_t { kNone, kOpened, kHalfOpened, kClosed };

// All methods are thread-safe and allocation-free. `now_ms` is any monotonic millisecond clock
// shared by the callers (uv_now of any loop qualifies: libuv reads CLOCK_MONOTONIC); tests pass
// their own values.
class Breaker {
 public:
  BreakerState state() const { return StateOf(word_.load(std::memory_order_acquire)); }

  // Whether Admit() could succeed now. Read-only: pickers use it to filter candidates.
  bool MayAdmit(const BreakerConfig& cfg, uint64_t now_ms) const;

  // Takes admission for one request. Open: refused until the open timeout has passed, then the
  // breaker turns half-open and this request is its first trial. Half-open: admits up to
  // half_open_requests trials per round; a round whose trials never report is restarted after
  // another open timeout, so a lost report cannot wedge the target. *trial tells Report which
  // results count.
  bool Admit(const BreakerConfig& cfg, uint64_t now_ms, bool* trial, BreakerTransition* t);

  // The outcome of an admitted request. While half-open only trials count: a success closes,
  // a failure re-opens. Results of requests admitted before the breaker opened are ignored.
  BreakerTransition OnSuccess(const BreakerConfig& cfg, uint64_t now_ms, bool trial);
  BreakerTransition OnFailure(const BreakerConfig& cfg, uint64_t now_ms, bool trial);

  // A trial that ended without a verdict (cancelled) gives its slot back.
  void ReleaseTrial();

  uint32_t consecutive_failures() const { return failures_.load(std::memory_order_relaxed); }

  uint64_t opened_count() const { return opened_.load(std::memory_order_relaxed); }

  uint64_t half_opened_count() const { return half_opened_.load(std::memory_order_relaxed); }

  uint64_t closed_count() const { return closed_.load(std::memory_order_relaxed); }

 private:
  // word layout: bits 0-1 state, bits 2-17 trials admitted this round, bits 18-63 the time
  // of the last transition (ms; 46 bits hold over two thousand years of uptime).
  static BreakerState StateOf(uint64_t w) { return static_cast<BreakerState>(w & 3); }

  static uint64_t TrialsOf(uint64_t w) { return (w >> 2) & 0xffff; }

  static uint64_t SinceOf(uint64_t w) { return w >> 18; }

  static uint64_t Pack(BreakerState s, uint64_t trials, uint64_t since_ms) {
    return static_cast<uint64_t>(s) | (trials << 2) | (since_ms << 18);
  }

  std::atomic<uint64_t> word_{0};
  std::atomic<uint32_t> failures_{0};  // consecutive, counted while closed
  std::atomic<uint64_t> opened_{0};
  std::atomic<uint64_t> half_opened_{0};
  std::atomic<uint64_t> closed_{0};
};

}  // namespace sluice::balancer

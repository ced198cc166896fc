// SPDX-License-Identifier: Apache-2.0
// The live state of one target shared by every worker and the health checker: resolved
// address, health counters, circuit breaker, in-flight requests and peak-EWMA latency. Only
// atomics, so the request path never takes a lock. A reload hands the same object to the new
// config when the target stays, so health survives (shared_ptr; see Upstream::Build).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

#include "core/balancer/breaker.h"
#include "core/balancer/health.h"
#include "core/net/address.h"

namespace sluice::balancer {

// The addresses of a target (one for an IP literal, up to kMax from a DNS answer), readable
// from any thread while one writer (DNS refresh) replaces them: a sequence lock over atomic
// words, so readers never block and nothing is a data race.
class AddressCell {
 public:
  static constexpr size_t kMax = 8;

  // Writers are serialised by a mutex: only the control plane writes, rarely. Keeps the first
  // kMax of `n` (n >= 1).
  void Store(const net::Address* addrs, size_t n);

  void Store(const net::Address& a) { Store(&a, 1); }

  // Address number `i` modulo the count; false until the first Store.
  bool Load(net::Address* out, size_t i = 0) const;

  // Every address, in stored order (control plane: reports).
  std::vector<net::Address> LoadAll() const;

  // 0 until the first Store.
  size_t count() const { return count_.load(std::memory_order_acquire); }

  // Address `i` is skipped by Upstream::AddressOf until `until_ms` (a loop clock), or until
  // the next Store.
  void Eject(size_t i, uint64_t until_ms) {
    if (i < kMax)
      ejected_until_[i].store(until_ms, std::memory_order_relaxed);
  }

  // As Eject, but never shortens an ejection already in force (a failed probe's).
  void EjectAtLeast(size_t i, uint64_t until_ms) {
    if (i >= kMax)
      return;
    uint64_t cur = ejected_until_[i].load(std::memory_order_relaxed);
    while (cur < until_ms &&
           !ejected_until_[i].compare_exchange_weak(cur, until_ms, std::memory_order_relaxed)) {
    }
  }

  bool Ejected(size_t i, uint64_t now_ms) const {
    return i < kMax && ejected_until_[i].load(std::memory_order_relaxed) > now_ms;
  }

  bool has_value() const { return seq_.load(std::memory_order_acquire) != 0; }

 private:
  static constexpr size_t kWords = 4;  // 32 bytes: room for sockaddr_in6 (28)
  std::atomic<uint32_t> seq_{0};       // odd while a write is in progress; 0 = never written
  std::atomic<uint32_t> count_{0};
  std::atomic<uint32_t> lens_[kMax] = {};
  std::atomic<uint64_t> words_[kMax][kWords] = {};
  std::atomic<uint64_t> ejected_until_[kMax] = {};
  absl::Mutex write_mu_;
};

// Peak-EWMA of response latency (Finagle's, as in Linkerd and Pingora): a slower sample takes
// over at once, faster samples pull the average down with weight exp(-dt/tau). Racing updates
// from several workers may drop one sample; that is harmless for a load signal.
class PeakEwma {
 public:
  void Observe(double sample_us, uint64_t now_ms, double tau_ms);

  // The average decayed to `now_ms` (toward 0, so an idle slow target is eventually retried);
  // 0 before the first sample.
  double Cost(uint64_t now_ms, double tau_ms) const;

 private:
  std::atomic<uint64_t> bits_{0};  // a double
  std::atomic<uint64_t> stamp_ms_{0};
};

// Why a target is in its present state, for the admin report.
enum class Reason : uint8_t {
  kNone,
  kPassiveSuccess,
  kPassiveHttp,
  kPassiveTcp,
  kPassiveTimeout,
  kActiveSuccess,
  kActiveHttp,
  kActiveTcp,
  kActiveTimeout,
  kManual,
};

struct TargetState {
  explicit TargetState(std::string key) : name(std::move(key)) {}

  TargetState(const TargetState&) = delete;
  TargetState& operator=(const TargetState&) = delete;

  // Remembers why health changed; `detail` is an HTTP status or an error code.
  void SetReason(Reason r, int detail) {
    reason_detail.store(detail, std::memory_order_relaxed);
    reason.store(r, std::memory_order_release);
  }

  const std::string name;  // "host:port" as configured; the key that carries it across reloads

  // Read on every pick, written rarely.
  HealthCell health;
  Breaker breaker;
  AddressCell address;
  std::atomic<int32_t> dns_error{0};        // 0, or the resolver's last error while unresolved
  std::atomic<uint64_t> dns_expires_ms{0};  // MonotonicMs (dns.h) when the address expires
  std::atomic<int32_t> dns_last_status{0};  // of the latest lookup, so only changes are logged
  std::atomic<Reason> reason{Reason::kNone};
  std::atomic<int32_t> reason_detail{0};
  std::atomic<uint64_t> became_unhealthy{0};  // transitions, for metrics
  std::atomic<uint64_t> became_healthy{0};

  // Written on every request: kept off the cache line the pickers read.
  alignas(64) std::atomic<int32_t> in_flight{0};
  std::atomic<uint32_t> next_address{0};  // rotation over the addresses of a DNS answer
  std::atomic<uint64_t> requests{0};      // attempts reported, for metrics
  std::atomic<uint64_t> failures{0};      // of which failed (5xx, connect failure, timeout)
  PeakEwma latency;
};

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// Kong's target health model (lua-resty-healthcheck): counters of consecutive successes, HTTP
// failures, TCP failures and timeouts, compared with the thresholds of the active or passive
// half of `healthchecks`. The policy is immutable per config; the cell is one atomic word per
// target shared by every worker and the health checker.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config.h"

namespace sluice::balancer {

// Kong's values for GET /upstreams/{name}/health.
enum class Health : uint8_t { kHealthy, kUnhealthy, kHealthchecksOff, kDnsError };

// "HEALTHY", "UNHEALTHY", "HEALTHCHECKS_OFF", "DNS_ERROR".
const char* HealthName(Health h);

enum class HealthEvent : uint8_t { kSuccess = 0, kHttpFailure = 1, kTcpFailure = 2, kTimeout = 3 };

// A set of HTTP status codes (Kong allows 100-999), tested without hashing or allocation.
class StatusSet {
 public:
  void Assign(const std::vector<int>& codes);

  bool Contains(int status) const { return status >= 0 && status < 1000 && bits_[status]; }

 private:
  std::bitset<1000> bits_;
};

// One half (active or passive) of Kong's healthchecks: a limit of 0 turns that counter off.
struct Thresholds {
  uint8_t successes = 0;
  uint8_t http_failures = 0;
  uint8_t tcp_failures = 0;
  uint8_t timeouts = 0;
  StatusSet healthy_statuses;
  StatusSet unhealthy_statuses;

  uint8_t LimitFor(HealthEvent e) const;

  // Healthy statuses are tested first, as lua-resty-healthcheck does. False: the status is in
  // neither list and counts for nothing.
  bool Classify(int status, HealthEvent* out) const;
};

// The immutable health configuration of one upstream.
struct HealthPolicy {
  Thresholds active;
  Thresholds passive;
  bool active_on = false;              // some active interval > 0: the checker probes
  bool passive_on = false;             // some passive counter > 0: proxied results count
  uint64_t healthy_interval_ms = 0;    // probe period while healthy; 0 = do not probe
  uint64_t unhealthy_interval_ms = 0;  // probe period while unhealthy; 0 = do not probe
  uint64_t timeout_ms = 1000;
  int concurrency = 10;       // probes of this upstream in flight at once
  std::string type = "http";  // tcp | http | https | grpc | grpcs
  std::string http_path = "/";
  std::vector<std::pair<std::string, std::string>> headers;  // extra probe request headers
  std::string https_sni;  // https/grpcs: server name to send; empty: the target's host name
  bool https_verify_certificate = true;  // https/grpcs: check the chain and the name
  double threshold = 0;  // percent of weight that must be available, else the upstream is down

  // Kong's HEALTHCHECKS_OFF: neither probes nor passive counters, so every target is usable.
  bool off() const { return !active_on && !passive_on; }

  static HealthPolicy From(const config::Healthchecks& hc);
};

// Health and counters of one target, shared by all threads. Lock-free; consecutive semantics:
// a success clears the failure counters (even when the success counter is off) and any
// failure clears the success counter.
class HealthCell {
 public:
  // Counts `e` against `limits`. Returns +1 when this call made the target healthy, -1 when it
  // made it unhealthy, 0 otherwise. A counter whose limit is 0 is off (Kong).
  int Record(HealthEvent e, const Thresholds& limits);

  bool healthy() const { return (word_.load(std::memory_order_acquire) >> 32) == 0; }

  // Forces a state (admin override, tests). Returns true when it changed.
  bool Set(bool healthy);

  // The current value of one counter (tests, admin detail).
  uint8_t counter(HealthEvent e) const {
    return static_cast<uint8_t>(word_.load(std::memory_order_relaxed) >> (8 * static_cast<int>(e)));
  }

 private:
  // Bits 0-31: four 8-bit counters indexed by HealthEvent; bit 32: unhealthy.
  std::atomic<uint64_t> word_{0};
};

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// What GET /upstreams/{name}/health shows per target: Kong's fields (target, weight, health)
// plus sluice's own (resolved address, breaker state, active connections, why).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/balancer/balancer.h"

namespace sluice::balancer {

struct TargetReport {
  std::string target;                  // "host:port" as configured
  std::string address;                 // "ip:port", "" while unresolved (Kong)
  std::vector<std::string> addresses;  // all of a DNS answer's, in the order they are used
  int weight = 0;
  Health health = Health::kHealthchecksOff;
  BreakerState breaker = BreakerState::kClosed;
  int32_t active_connections = 0;  // in flight across all workers
  std::string reason;              // why the target is in its state, for people
  uint64_t became_unhealthy = 0;   // transition counters, for metrics
  uint64_t became_healthy = 0;
  uint64_t breaker_opened = 0;
  uint64_t requests = 0;  // attempts that ended with a verdict
  uint64_t failures = 0;
};

// A consistent-enough view of every target of `up` (each field is read atomically; fields of
// one target may straddle a concurrent change). Any thread; allocates (control plane).
std::vector<TargetReport> ReportHealth(const Upstream& up);

// {"data": [{"target", "address", "weight", "health", "circuit_breaker",
//            "active_connections", "reason"}...], "next": null}; the admin adds "node_id".
nlohmann::json HealthJson(const Upstream& up);

// Per-target series of every upstream in `set` for admin /metrics, Prometheus text 0.0.4:
// sluice_upstream_target_{health,circuit_breaker_state,active_connections,requests_total,
// failures_total}.
void AppendMetrics(const Set& set, std::string* out);

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/health.h"

#include <algorithm>

namespace sluice::balancer {
namespace {

constexpr uint64_t kUnhealthyBit = uint64_t{1} << 32;

uint8_t Clamp8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

uint64_t SecondsToMs(double s) { return s <= 0 ? 0 : static_cast<uint64_t>(s * 1000.0 + 0.5); }

Thresholds FromCounters(const config::HealthcheckCounters& healthy,
                        const config::HealthcheckCounters& unhealthy) {
  Thresholds t;
  t.successes = Clamp8(healthy.successes);
  t.http_failures = Clamp8(unhealthy.http_failures);
  t.tcp_failures = Clamp8(unhealthy.tcp_failures);
  t.timeouts = Clamp8(unhealthy.timeouts);
  t.healthy_statuses.Assign(healthy.http_statuses);
  t.unhealthy_statuses.Assign(unhealthy.http_statuses);
  return t;
}

}  // namespace

const char* HealthName(Health h) {
  switch (h) {
    case Health::kHealthy:
      return "HEALTHY";
    case Health::kUnhealthy:
      return "UNHEALTHY";
    case Health::kHealthchecksOff:
      return "HEALTHCHECKS_OFF";
    case Health::kDnsError:
      return "DNS_ERROR";
  }
  return "HEALTHCHECKS_OFF";
}

void StatusSet::Assign(const std::vector<int>& codes) {
  bits_.reset();
  for (int c : codes) {
    if (c >= 0 && c < 1000)
      bits_.set(static_cast<size_t>(c));
  }
}

uint8_t Thresholds::LimitFor(HealthEvent e) const {
  switch (e) {
    case HealthEvent::kSuccess:
      return successes;
    case HealthEvent::kHttpFailure:
      return http_failures;
    case HealthEvent::kTcpFailure:
      return tcp_failures;
    case HealthEvent::kTimeout:
      return timeouts;
  }
  return 0;
}

bool Thresholds::Classify(int status, HealthEvent* out) const {
  if (healthy_statuses.Contains(status)) {
    *out = HealthEvent::kSuccess;
    return true;
  }
  if (unhealthy_statuses.Contains(status)) {
    *out = HealthEvent::kHttpFailure;
    return true;
  }
  return false;
}

HealthPolicy HealthPolicy::From(const config::Healthchecks& hc) {
  HealthPolicy p;
  p.active = FromCounters(hc.active.healthy, hc.active.unhealthy);
  p.passive = FromCounters(hc.passive.healthy, hc.passive.unhealthy);
  p.healthy_interval_ms = static_cast<uint64_t>(std::max(hc.active.healthy.interval, 0)) * 1000;
  p.unhealthy_interval_ms = static_cast<uint64_t>(std::max(hc.active.unhealthy.interval, 0)) * 1000;
  p.active_on = p.healthy_interval_ms > 0 || p.unhealthy_interval_ms > 0;
  p.passive_on = p.passive.successes > 0 || p.passive.http_failures > 0 ||
                 p.passive.tcp_failures > 0 || p.passive.timeouts > 0;
  p.timeout_ms = std::max<uint64_t>(SecondsToMs(hc.active.timeout), 1);
  p.concurrency = std::max(hc.active.concurrency, 1);
  p.type = hc.active.type;
  p.http_path = hc.active.http_path.empty() ? "/" : hc.active.http_path;
  for (const auto& [name, values] : hc.active.headers) {
    for (const auto& v : values)
      p.headers.emplace_back(name, v);
  }
  p.https_sni = hc.active.https_sni;
  p.https_verify_certificate = hc.active.https_verify_certificate;
  p.threshold = hc.threshold;
  return p;
}

int HealthCell::Record(HealthEvent e, const Thresholds& limits) {
  const uint8_t limit = limits.LimitFor(e);
  // A limit of 0 turns a counter off, except that a success still ends a run of failures
  // (lua-resty-healthcheck leaves them standing, so failures days apart add up).
  if (limit == 0 && e != HealthEvent::kSuccess)
    return 0;
  const int shift = 8 * static_cast<int>(e);
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    const bool healthy = (w & kUnhealthyBit) == 0;
    const uint64_t counters = w & 0xffffffffu;
    uint64_t next;
    int change = 0;
    if (e == HealthEvent::kSuccess) {
      if (healthy) {
        // Nothing to count while healthy; only clear failures, and write only if there are
        // any, so steady healthy traffic never dirties the shared cache line.
        if (counters == 0)
          return 0;
        next = 0;
      } else {
        if (limit == 0)
          return 0;  // passive successes off: only active checks (or the admin) can heal
        const uint64_t n = std::min<uint64_t>(((counters >> shift) & 0xff) + 1, 255);
        if (n >= limit) {
          next = 0;
          change = +1;
        } else {
          next = kUnhealthyBit | (n << shift);
        }
      }
    } else {
      if (!healthy) {
        if ((counters & 0xff) == 0)  // the success counter is already clear
          return 0;
        next = kUnhealthyBit | (counters & ~uint64_t{0xff});
      } else {
        const uint64_t n = std::min<uint64_t>(((counters >> shift) & 0xff) + 1, 255);
        if (n >= limit) {
          next = kUnhealthyBit;
          change = -1;
        } else {
          next = (counters & ~(uint64_t{0xff} << shift) & ~uint64_t{0xff}) | (n << shift);
        }
      }
    }
    if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel))
      return change;
  }
}

bool HealthCell::Set(bool healthy) {
  const uint64_t next = healthy ? 0 : kUnhealthyBit;
  const uint64_t prev = word_.exchange(next, std::memory_order_acq_rel);
  return ((prev & kUnhealthyBit) == 0) != healthy;
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/health_report.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include <uv.h>

#include "core/balancer/probe.h"

namespace sluice::balancer {
namespace {

std::string HealthReason(const Upstream& up, const TargetState& s) {
  const int detail = s.reason_detail.load(std::memory_order_relaxed);
  auto limit = [&](bool active, HealthEvent e) {
    return static_cast<int>((active ? up.policy().active : up.policy().passive).LimitFor(e));
  };
  switch (s.reason.load(std::memory_order_acquire)) {
    case Reason::kNone:
      return "";
    case Reason::kManual:
      return "set by the admin";
    case Reason::kPassiveSuccess:
      return absl::StrCat("passive check: ", limit(false, HealthEvent::kSuccess), " successes");
    case Reason::kActiveSuccess:
      return absl::StrCat("active check: ", limit(true, HealthEvent::kSuccess), " successes");
    case Reason::kPassiveHttp:
      return absl::StrCat("passive check: ", limit(false, HealthEvent::kHttpFailure),
                          " http failures, last status ", detail);
    case Reason::kActiveHttp:
      return absl::StrCat("active check: ", limit(true, HealthEvent::kHttpFailure),
                          " http failures, last status ", detail);
    case Reason::kPassiveTcp:
      return absl::StrCat("passive check: ", limit(false, HealthEvent::kTcpFailure),
                          " tcp failures");
    case Reason::kActiveTcp:
      // The probe's error: a connect error, or why TLS failed (handshake or certificate).
      return absl::StrCat(
          "active check: ", limit(true, HealthEvent::kTcpFailure), " tcp failures",
          detail != 0 ? absl::StrCat(", last error: ", ProbeErrorText(detail)) : std::string());
    case Reason::kPassiveTimeout:
      return absl::StrCat("passive check: ", limit(false, HealthEvent::kTimeout), " timeouts");
    case Reason::kActiveTimeout:
      return absl::StrCat("active check: ", limit(true, HealthEvent::kTimeout), " timeouts");
  }
  return "";
}

}  // namespace

std::vector<TargetReport> ReportHealth(const Upstream& up) {
  std::vector<TargetReport> out;
  out.reserve(up.size());
  for (size_t i = 0; i < up.size(); ++i) {
    const TargetInfo& t = up.target(i);
    const TargetState& s = up.state(i);
    TargetReport r;
    r.target = t.target;
    r.weight = t.weight;
    r.breaker = up.options().breaker.enabled ? s.breaker.state() : BreakerState::kClosed;
    r.active_connections = std::max(s.in_flight.load(std::memory_order_relaxed), 0);
    r.became_unhealthy = s.became_unhealthy.load(std::memory_order_relaxed);
    r.became_healthy = s.became_healthy.load(std::memory_order_relaxed);
    r.breaker_opened = s.breaker.opened_count();
    r.requests = s.requests.load(std::memory_order_relaxed);
    r.failures = s.failures.load(std::memory_order_relaxed);
    std::vector<std::string> why;
    const std::vector<net::Address> addrs = s.address.LoadAll();
    for (const net::Address& a : addrs)
      r.addresses.push_back(a.ToString());
    if (addrs.empty()) {
      r.health = Health::kDnsError;
      const int rc = s.dns_error.load(std::memory_order_relaxed);
      why.push_back(absl::StrCat("dns: ", rc != 0 ? uv_strerror(rc) : "not resolved yet"));
    } else {
      r.address = r.addresses.front();
      if (up.policy().off()) {
        r.health = Health::kHealthchecksOff;
      } else {
        r.health = s.health.healthy() ? Health::kHealthy : Health::kUnhealthy;
        if (std::string h = HealthReason(up, s); !h.empty())
          why.push_back(std::move(h));
      }
    }
    if (t.weight == 0)
      why.push_back("weight 0: takes no traffic");
    if (r.breaker == BreakerState::kOpen) {
      why.push_back(absl::StrCat("circuit breaker open after ",
                                 up.options().breaker.failure_threshold, " consecutive failures"));
    } else if (r.breaker == BreakerState::kHalfOpen) {
      why.push_back("circuit breaker half-open: trial requests only");
    }
    r.reason = absl::StrJoin(why, "; ");
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::json HealthJson(const Upstream& up) {
  nlohmann::json data = nlohmann::json::array();
  for (const TargetReport& r : ReportHealth(up)) {
    data.push_back({{"target", r.target},
                    {"address", r.address},
                    {"addresses", r.addresses},
                    {"weight", r.weight},
                    {"health", HealthName(r.health)},
                    {"circuit_breaker", BreakerStateName(r.breaker)},
                    {"active_connections", r.active_connections},
                    {"requests", r.requests},
                    {"failures", r.failures},
                    {"reason", r.reason}});
  }
  return {{"data", std::move(data)}, {"next", nullptr}};
}

void AppendMetrics(const Set& set, std::string* out) {
  std::vector<std::vector<TargetReport>> reports;  // empty for implicit upstreams
  bool any = false;
  for (size_t u = 0; u < set.size(); ++u) {
    reports.push_back(set.at(u).implicit() ? std::vector<TargetReport>() : ReportHealth(set.at(u)));
    any = any || !set.at(u).implicit();
  }
  if (!any)
    return;
  // One family at a time, as the text format requires.
  auto family = [&](absl::string_view name, absl::string_view type, absl::string_view help,
                    auto&& emit) {
    absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (size_t u = 0; u < set.size(); ++u) {
      for (const TargetReport& r : reports[u]) {
        std::string labels =
            absl::StrCat("upstream=\"", set.at(u).name(), "\",target=\"", r.target, "\"");
        emit(name, labels, r);
      }
    }
  };
  family(
      "sluice_upstream_target_health", "gauge",
      "1 for the target's health state (healthy, unhealthy, dns_error, healthchecks_off)",
      [&](absl::string_view name, const std::string& labels, const TargetReport& r) {
        for (Health h :
             {Health::kHealthy, Health::kUnhealthy, Health::kDnsError, Health::kHealthchecksOff}) {
          absl::StrAppend(out, name, "{", labels, ",state=\"", absl::AsciiStrToLower(HealthName(h)),
                          "\"} ", r.health == h ? 1 : 0, "\n");
        }
      });
  family("sluice_upstream_target_circuit_breaker_state", "gauge",
         "Circuit breaker of the target: 0 closed, 1 open, 2 half-open",
         [&](absl::string_view name, const std::string& labels, const TargetReport& r) {
           absl::StrAppend(out, name, "{", labels, "} ", static_cast<int>(r.breaker), "\n");
         });
  family("sluice_upstream_target_active_connections", "gauge",
         "Requests in flight to the target, all workers",
         [&](absl::string_view name, const std::string& labels, const TargetReport& r) {
           absl::StrAppend(out, name, "{", labels, "} ", r.active_connections, "\n");
         });
  family("sluice_upstream_target_requests_total", "counter",
         "Attempts sent to the target that ended with a verdict",
         [&](absl::string_view name, const std::string& labels, const TargetReport& r) {
           absl::StrAppend(out, name, "{", labels, "} ", r.requests, "\n");
         });
  family("sluice_upstream_target_failures_total", "counter",
         "Attempts that failed: 5xx, connect failure or timeout",
         [&](absl::string_view name, const std::string& labels, const TargetReport& r) {
           absl::StrAppend(out, name, "{", labels, "} ", r.failures, "\n");
         });
}

}  // namespace sluice::balancer

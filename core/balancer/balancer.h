// SPDX-License-Identifier: Apache-2.0
// Load balancing for Kong `upstreams`: per-upstream balancers (round-robin, least-connections,
// consistent-hashing, latency), target health (active + passive), a circuit breaker per target
// and a retry budget per upstream. This header holds the process-shared half; picker.h the
// per-worker half, health_checker.h the active probes and DNS refresh.
//
// Integration contract
// --------------------
// Server (main thread):
//   start:  set = Set::Build(config, options, nullptr);    // resolves new hostnames (blocking)
//           checker = HealthCheckerThread::Start({});        // one per process, own thread+loop
//           checker->Update(set);
//   reload: new_set = Set::Build(new_config, options, old_set.get());
//           publish new_set with the new snapshot, then checker->Update(new_set).
//           Targets whose upstream name and "host:port" stay keep their TargetState (health,
//           breaker, in-flight, latency, resolved address); the old set stays valid for the
//           requests still using it (shared_ptr held by the old snapshot).
//   stop:   checker.reset() (stops and joins its thread) after the workers have stopped.
//   `options` is parallel to config.upstreams (breaker / retry budget, not yet in
//   core/config); an empty vector means defaults for all.
// Worker (its own loop thread), when it installs a snapshot:
//   WorkerPickers pickers(*set);   // allocates here, never per request
// Proxy, per request routed to upstream u (u = set->IndexOf(service.host)):
//   budget = set->at(u).retry_budget();  budget.OnRequest();  // once per request
//   sel = pickers.at(u).Pick(facts, now_ms, /*avoid=*/-1);      // "connection begin"
//     !sel -> 503 "failure to get a peer from the ring-balancer"
//   set->at(u).AddressOf(sel, &addr)  -> connect (a copy: DNS may change it later)
//   set->at(u).Report(sel, result, now_ms);                     // "connection end"
//     to the same Upstream object the picker belongs to (keep the pointer in the exchange:
//     a reload may install a new Set meanwhile),
//     exactly once per successful Pick: a response (its status, latency), a connect
//     failure, a timeout, or kCancelled (client went away: no health verdict).
//   retry: if (budget.TryRetry()) sel = Pick(facts, now_ms, /*avoid=*/previous sel.index).
//   now_ms: uv_now(loop) of the worker; every loop reads CLOCK_MONOTONIC, so the values are
//   comparable across threads. latency_us: uv_hrtime() difference, request sent -> headers.
// Admin (any thread): ReportHealth(set->at(u)) / HealthJson(set->at(u)) in health_report.h.
// Threads: Upstream and Set are immutable after Build apart from atomics; every const method
// here is safe from any thread and lock-free. Picker is per worker and not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

#include "core/balancer/breaker.h"
#include "core/balancer/hash_key.h"
#include "core/balancer/health.h"
#include "core/balancer/retry_budget.h"
#include "core/balancer/ring.h"
#include "core/balancer/target_state.h"
#include "core/config/config.h"
#include "core/net/address.h"

namespace sluice::balancer {

enum class Algorithm : uint8_t { kRoundRobin, kLeastConnections, kConsistentHashing, kLatency };

// Kong's `algorithm` values; false for anything else.
bool ParseAlgorithm(absl::string_view text, Algorithm* out);

// Per-upstream settings Kong does not have (proposed YAML fields on the upstream; see
// BreakerConfig and RetryBudgetConfig).
struct UpstreamOptions {
  BreakerConfig breaker;
  RetryBudgetConfig retry_budget;
  double latency_decay_ms = 10000;  // peak-EWMA time constant (Finagle's default)
};

// One configured target: immutable facts plus its shared live state.
struct TargetInfo {
  std::string target;  // "host:port" as written
  std::string host;
  int port = 0;
  int weight = 100;
  bool numeric = false;  // an IP literal: never re-resolved
  bool fresh = false;    // its state is new in this config (not handed over by the last one)
  std::shared_ptr<TargetState> state;
};

// A pick: which target, and whether it holds a half-open trial slot of the breaker.
struct Selection {
  int index = -1;
  bool trial = false;
  uint8_t address = 0;  // which of the target's addresses AddressOf handed out

  explicit operator bool() const { return index >= 0; }
};

// How one attempt against a target ended.
struct Result {
  enum class Kind : uint8_t {
    kResponse,        // response headers arrived: `status` is set
    kConnectFailure,  // connect refused / reset / unreachable (Kong's tcp failure)
    kTimeout,         // connect, write or read timeout
    kCancelled,       // abandoned without a verdict (client gone, shutdown)
  };
  Kind kind = Kind::kResponse;
  int status = 0;
  uint64_t latency_us = 0;  // send -> response headers; used by the latency algorithm
  bool connecting = false;  // failed before the connection was up (refused, connect timeout)
};

// The shared balancer of one upstream for one config version.
class Upstream {
 public:
  // Builds from config. `previous` (may be null) is the same-named upstream of the config in
  // force: targets it also has keep their state. New hostname targets start unresolved
  // (DNS_ERROR); ResolveNewTargets (dns.h) looks them up before the config serves.
  static std::shared_ptr<Upstream> Build(const config::Upstream& cfg, const UpstreamOptions& opts,
                                         const Upstream* previous);

  const std::string& name() const { return name_; }

  // Stands for a service whose host is a DNS name (see Set::Build): balanced and refreshed like
  // any upstream, but not an `upstreams` entry, so not in admin reports or metrics.
  bool implicit() const { return implicit_; }

  Algorithm algorithm() const { return algorithm_; }

  const HealthPolicy& policy() const { return policy_; }

  const UpstreamOptions& options() const { return options_; }

  size_t size() const { return targets_.size(); }

  const TargetInfo& target(size_t i) const { return targets_[i]; }

  TargetState& state(size_t i) const { return *targets_[i].state; }

  const Ring& ring() const { return ring_; }

  const HashSource& hash_on() const { return hash_on_; }

  const HashSource& hash_fallback() const { return hash_fallback_; }

  RetryBudget& retry_budget() const { return *retry_budget_; }

  // Could target i take a request now: weight > 0, resolved, healthy (or checks off) and the
  // breaker would admit. Read-only.
  bool Eligible(size_t i, uint64_t now_ms) const;

  // False when healthchecks.threshold is set and less than that percentage of the weight is
  // healthy: Kong then fails the whole upstream.
  bool AboveThreshold() const;

  // The address to connect to for `sel` (recorded in it for Report); false when unresolved.
  // A target whose name resolved to several addresses hands them out in turn (Kong balances
  // over every A record), skipping one that just refused or timed out a connection.
  bool AddressOf(Selection* sel, uint64_t now_ms, net::Address* out) const;

  // Takes the breaker admission and the in-flight count for target i (used by Picker).
  bool Admit(size_t i, uint64_t now_ms, Selection* out) const;

  // The end of an attempt started by a successful Pick: in-flight count, passive health,
  // breaker and latency. Any thread; lock-free; logs only on a state change.
  void Report(const Selection& sel, const Result& r, uint64_t now_ms) const;

  // An active probe's verdict (health checker thread). `detail`: HTTP status or error code.
  void RecordActive(size_t i, HealthEvent e, int detail) const;

  // Forces target i healthy or unhealthy (admin override as Kong's PUT .../healthy).
  void SetHealthy(size_t i, bool healthy) const;

 private:
  friend class Set;  // marks implicit upstreams
  Upstream() = default;

  void HealthChanged(size_t i, int change, bool active, HealthEvent e, int detail) const;
  void BreakerChanged(size_t i, BreakerTransition t) const;

  std::string name_;
  bool implicit_ = false;
  Algorithm algorithm_ = Algorithm::kRoundRobin;
  HealthPolicy policy_;
  UpstreamOptions options_;
  HashSource hash_on_;
  HashSource hash_fallback_;
  std::vector<TargetInfo> targets_;
  Ring ring_;
  std::unique_ptr<RetryBudget> retry_budget_;
};

// The balancers of every upstream in one config version, in config order.
class Set {
 public:
  // `options` is parallel to cfg.upstreams (shorter: defaults for the rest). `previous` (may be
  // null) donates target state by upstream name and target string.
  static std::shared_ptr<const Set> Build(const config::Config& cfg,
                                          const std::vector<UpstreamOptions>& options,
                                          const Set* previous);

  size_t size() const { return upstreams_.size(); }

  const Upstream& at(size_t i) const { return *upstreams_[i]; }

  // Index of the upstream called `name`, or -1. Implicit upstreams have no name here.
  int IndexOf(absl::string_view name) const;

  // Index of the implicit upstream of service host `host_port` ("host:port"), or -1.
  int ImplicitIndexOf(absl::string_view host_port) const;

  const Upstream* Find(absl::string_view name) const {
    int i = IndexOf(name);
    return i < 0 ? nullptr : upstreams_[static_cast<size_t>(i)].get();
  }

 private:
  std::vector<std::shared_ptr<Upstream>> upstreams_;
  absl::flat_hash_map<std::string, size_t> by_name_;
  absl::flat_hash_map<std::string, size_t> implicit_;  // by "host:port"
};

}  // namespace sluice::balancer

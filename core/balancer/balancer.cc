// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/balancer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/common/log.h"

namespace sluice::balancer {
namespace {

// How long an address of a multi-address target that failed a connection is skipped.
constexpr uint64_t kAddressEjectMs = 10000;

const char* EventName(HealthEvent e) {
  switch (e) {
    case HealthEvent::kSuccess:
      return "successes";
    case HealthEvent::kHttpFailure:
      return "http failures";
    case HealthEvent::kTcpFailure:
      return "tcp failures";
    case HealthEvent::kTimeout:
      return "timeouts";
  }
  return "events";
}

Reason ReasonFor(bool active, HealthEvent e) {
  switch (e) {
    case HealthEvent::kSuccess:
      return active ? Reason::kActiveSuccess : Reason::kPassiveSuccess;
    case HealthEvent::kHttpFailure:
      return active ? Reason::kActiveHttp : Reason::kPassiveHttp;
    case HealthEvent::kTcpFailure:
      return active ? Reason::kActiveTcp : Reason::kPassiveTcp;
    case HealthEvent::kTimeout:
      return active ? Reason::kActiveTimeout : Reason::kPassiveTimeout;
  }
  return Reason::kNone;
}

}  // namespace

bool ParseAlgorithm(absl::string_view text, Algorithm* out) {
  if (text == "round-robin") {
    *out = Algorithm::kRoundRobin;
  } else if (text == "least-connections") {
    *out = Algorithm::kLeastConnections;
  } else if (text == "consistent-hashing") {
    *out = Algorithm::kConsistentHashing;
  } else if (text == "latency") {
    *out = Algorithm::kLatency;
  } else {
    return false;
  }
  return true;
}

std::shared_ptr<Upstream> Upstream::Build(const config::Upstream& cfg, const UpstreamOptions& opts,
                                          const Upstream* previous) {
  std::shared_ptr<Upstream> up(new Upstream());
  up->name_ = cfg.name;
  if (!ParseAlgorithm(cfg.algorithm, &up->algorithm_))
    up->algorithm_ = Algorithm::kRoundRobin;
  up->policy_ = HealthPolicy::From(cfg.healthchecks);
  up->options_ = opts;
  if (up->options_.latency_decay_ms <= 0)
    up->options_.latency_decay_ms = 10000;
  up->hash_on_ = HashSource::Primary(cfg);
  up->hash_fallback_ = HashSource::Fallback(cfg);
  up->retry_budget_ = std::make_unique<RetryBudget>(opts.retry_budget);

  absl::flat_hash_map<absl::string_view, std::shared_ptr<TargetState>> donors;
  if (previous != nullptr) {
    for (const TargetInfo& t : previous->targets_)
      donors.emplace(t.target, t.state);
  }
  std::vector<std::string> names;
  std::vector<int> weights;
  for (const config::Target& ct : cfg.targets) {
    TargetInfo t;
    t.target = ct.target.empty() ? absl::StrCat(ct.host, ":", ct.port) : ct.target;
    t.host = ct.host;
    t.port = ct.port;
    t.weight = std::max(ct.weight, 0);
    net::Address addr;
    t.numeric = net::ParseNumeric(ct.host, ct.port, &addr);
    if (auto it = donors.find(t.target); it != donors.end() && it->second != nullptr) {
      t.state = std::move(it->second);  // moved out: a duplicate entry gets fresh state
    } else {
      // A new hostname target starts unresolved: ResolveNewTargets (dns.h) looks it up
      // before the config goes live, without blocking a loop.
      t.state = std::make_shared<TargetState>(t.target);
      t.fresh = true;
      if (t.numeric)
        t.state->address.Store(addr);
    }
    names.push_back(t.target);
    weights.push_back(t.weight);
    up->targets_.push_back(std::move(t));
  }
  up->ring_.Build(names, weights);
  return up;
}

bool Upstream::Eligible(size_t i, uint64_t now_ms) const {
  const TargetInfo& t = targets_[i];
  if (t.weight <= 0)
    return false;
  const TargetState& s = *t.state;
  if (!s.address.has_value())
    return false;
  if (!policy_.off() && !s.health.healthy())
    return false;
  return s.breaker.MayAdmit(options_.breaker, now_ms);
}

bool Upstream::AboveThreshold() const {
  if (policy_.threshold <= 0 || policy_.off())
    return true;
  int64_t total = 0;
  int64_t healthy = 0;
  for (const TargetInfo& t : targets_) {
    total += t.weight;
    if (t.state->address.has_value() && t.state->health.healthy())
      healthy += t.weight;
  }
  return total > 0 &&
         static_cast<double>(healthy) * 100.0 >= policy_.threshold * static_cast<double>(total);
}

bool Upstream::Admit(size_t i, uint64_t now_ms, Selection* out) const {
  TargetState& s = *targets_[i].state;
  bool trial = false;
  BreakerTransition t = BreakerTransition::kNone;
  if (!s.breaker.Admit(options_.breaker, now_ms, &trial, &t))
    return false;
  if (t != BreakerTransition::kNone)
    BreakerChanged(i, t);
  s.in_flight.fetch_add(1, std::memory_order_relaxed);
  out->index = static_cast<int>(i);
  out->trial = trial;
  return true;
}

bool Upstream::AddressOf(Selection* sel, uint64_t now_ms, net::Address* out) const {
  if (!*sel)
    return false;
  TargetState& s = state(static_cast<size_t>(sel->index));
  const size_t n = s.address.count();
  size_t pick = 0;
  if (n > 1) {
    const size_t start = s.next_address.fetch_add(1, std::memory_order_relaxed) % n;
    pick = start;
    for (size_t k = 0; k < n; ++k) {
      if (!s.address.Ejected((start + k) % n, now_ms)) {
        pick = (start + k) % n;
        break;
      }
    }
  }
  sel->address = static_cast<uint8_t>(pick);
  return s.address.Load(out, pick);
}

void Upstream::Report(const Selection& sel, const Result& r, uint64_t now_ms) const {
  if (!sel || static_cast<size_t>(sel.index) >= targets_.size())
    return;
  const size_t i = static_cast<size_t>(sel.index);
  TargetState& s = *targets_[i].state;
  s.in_flight.fetch_sub(1, std::memory_order_relaxed);
  // One dead address of several must not fail every n-th request: it sits out a while. Only
  // a connection that never came up says that of the address; the target's health counts the
  // attempt as usual below.
  if (r.connecting && r.kind != Result::Kind::kResponse && s.address.count() > 1)
    s.address.EjectAtLeast(sel.address, now_ms + kAddressEjectMs);
  HealthEvent e = HealthEvent::kSuccess;
  bool counts = true;
  bool failure = true;
  switch (r.kind) {
    case Result::Kind::kResponse:
      counts = policy_.passive.Classify(r.status, &e);
      // The breaker watches for a broken target, not for client errors: 5xx only.
      failure = r.status >= 500;
      break;
    case Result::Kind::kConnectFailure:
      e = HealthEvent::kTcpFailure;
      break;
    case Result::Kind::kTimeout:
      e = HealthEvent::kTimeout;
      break;
    case Result::Kind::kCancelled:
      if (sel.trial)
        s.breaker.ReleaseTrial();
      return;
  }
  // A fast connect failure must not look like a fast target, so it feeds no latency sample.
  if (algorithm_ == Algorithm::kLatency && r.kind != Result::Kind::kConnectFailure)
    s.latency.Observe(static_cast<double>(r.latency_us), now_ms, options_.latency_decay_ms);
  if (counts && policy_.passive_on) {
    const int detail = r.kind == Result::Kind::kResponse ? r.status : 0;
    if (int change = s.health.Record(e, policy_.passive); change != 0)
      HealthChanged(i, change, false, e, detail);
  }
  s.requests.fetch_add(1, std::memory_order_relaxed);
  if (failure)
    s.failures.fetch_add(1, std::memory_order_relaxed);
  const BreakerTransition t = failure ? s.breaker.OnFailure(options_.breaker, now_ms, sel.trial)
                                      : s.breaker.OnSuccess(options_.breaker, now_ms, sel.trial);
  if (t != BreakerTransition::kNone)
    BreakerChanged(i, t);
}

void Upstream::RecordActive(size_t i, HealthEvent e, int detail) const {
  if (int change = targets_[i].state->health.Record(e, policy_.active); change != 0)
    HealthChanged(i, change, true, e, detail);
}

void Upstream::SetHealthy(size_t i, bool healthy) const {
  TargetState& s = *targets_[i].state;
  if (!s.health.Set(healthy))
    return;
  s.SetReason(Reason::kManual, 0);
  (healthy ? s.became_healthy : s.became_unhealthy).fetch_add(1, std::memory_order_relaxed);
  log::Warn("upstream %s: target %s set %s by the admin", name_, targets_[i].target,
            healthy ? "healthy" : "unhealthy");
}

void Upstream::HealthChanged(size_t i, int change, bool active, HealthEvent e, int detail) const {
  TargetState& s = *targets_[i].state;
  s.SetReason(ReasonFor(active, e), detail);
  (change > 0 ? s.became_healthy : s.became_unhealthy).fetch_add(1, std::memory_order_relaxed);
  const Thresholds& t = active ? policy_.active : policy_.passive;
  log::Warn("upstream %s: target %s is now %s (%s: %d %s%s)", name_, targets_[i].target,
            change > 0 ? "healthy" : "unhealthy", active ? "active check" : "passive check",
            static_cast<int>(t.LimitFor(e)), EventName(e),
            detail > 0 && e == HealthEvent::kHttpFailure ? absl::StrCat(", status ", detail)
                                                         : std::string());
}

void Upstream::BreakerChanged(size_t i, BreakerTransition t) const {
  const char* what = "";
  switch (t) {
    case BreakerTransition::kOpened:
      what = "open";
      break;
    case BreakerTransition::kHalfOpened:
      what = "half-open (admitting trial requests)";
      break;
    case BreakerTransition::kClosed:
      what = "closed";
      break;
    case BreakerTransition::kNone:
      return;
  }
  log::Warn("upstream %s: target %s circuit breaker %s", name_, targets_[i].target, what);
}

std::shared_ptr<const Set> Set::Build(const config::Config& cfg,
                                      const std::vector<UpstreamOptions>& options,
                                      const Set* previous) {
  auto set = std::make_shared<Set>();
  for (size_t i = 0; i < cfg.upstreams.size(); ++i) {
    const config::Upstream& u = cfg.upstreams[i];
    const UpstreamOptions opts = i < options.size() ? options[i] : UpstreamOptions();
    const Upstream* prev = previous != nullptr ? previous->Find(u.name) : nullptr;
    set->by_name_.emplace(u.name, set->upstreams_.size());
    set->upstreams_.push_back(Upstream::Build(u, opts, prev));
  }
  // A service whose host is a DNS name gets an upstream of its own with that one target, as
  // Kong balances such a host over its DNS answer: the name is then resolved before the config
  // serves and refreshed on its TTL like any target. No health checks, breaker or retry
  // budget: a plain host behaves as before, only its address stays current.
  for (const config::Service& s : cfg.services) {
    net::Address numeric;
    if (!s.enabled || set->by_name_.contains(s.host) || net::ParseNumeric(s.host, s.port, &numeric))
      continue;
    std::string key = absl::StrCat(s.host, ":", s.port);
    if (set->implicit_.contains(key))
      continue;
    config::Upstream u;
    u.name = key;
    config::Target t;
    t.host = s.host;
    t.port = s.port;
    t.target = key;
    u.targets.push_back(std::move(t));
    UpstreamOptions opts;
    opts.retry_budget.enabled = false;
    const Upstream* prev = nullptr;
    if (previous != nullptr) {
      if (int i = previous->ImplicitIndexOf(key); i >= 0)
        prev = &previous->at(static_cast<size_t>(i));
    }
    auto up = Upstream::Build(u, opts, prev);
    up->implicit_ = true;
    set->implicit_.emplace(std::move(key), set->upstreams_.size());
    set->upstreams_.push_back(std::move(up));
  }
  return set;
}

int Set::IndexOf(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<int>(it->second);
}

int Set::ImplicitIndexOf(absl::string_view host_port) const {
  auto it = implicit_.find(host_port);
  return it == implicit_.end() ? -1 : static_cast<int>(it->second);
}

}  // namespace sluice::balancer

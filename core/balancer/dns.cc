// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/dns.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <uv.h>

#include "core/common/log.h"

namespace sluice::balancer {

uint64_t MonotonicMs() { return uv_hrtime() / 1000000; }

namespace {

// "ip:port, ip:port" of the first AddressCell::kMax addresses, as a target would keep them.
std::string Join(const std::vector<net::Address>& addrs) {
  std::string out;
  for (size_t i = 0; i < addrs.size() && i < AddressCell::kMax; ++i)
    absl::StrAppend(&out, i > 0 ? ", " : "", addrs[i].ToString());
  return out;
}

}  // namespace

uint64_t ApplyResolution(TargetState& state, const net::Resolution& r, const DnsPolicy& policy,
                         absl::string_view upstream, absl::string_view target) {
  // Only changes are logged: a resolver that stays down would otherwise log every second.
  const int previous = state.dns_last_status.exchange(r.status, std::memory_order_relaxed);
  if (r.status == 0) {
    if (previous != 0)
      log::Info("upstream %s: target %s resolves again", upstream, target);
    const std::vector<net::Address> before = state.address.LoadAll();
    const std::string was = Join(before);
    const std::string now = Join(r.addresses);
    if (was != now) {
      state.address.Store(r.addresses.data(), r.addresses.size());
      if (!before.empty()) {
        log::Info("upstream %s: target %s now resolves to %s (was %s)", upstream, target, now, was);
      }
    }
    state.dns_error.store(0, std::memory_order_relaxed);
    const uint64_t ttl_ms =
        r.ttl_s == 0 ? policy.no_ttl_ms : std::max<uint64_t>(r.ttl_s * 1000ull, policy.min_ttl_ms);
    state.dns_expires_ms.store(MonotonicMs() + ttl_ms, std::memory_order_relaxed);
    return ttl_ms;
  }
  if (!state.address.has_value())
    state.dns_error.store(r.status, std::memory_order_relaxed);
  if (previous != r.status) {
    log::Warn("upstream %s: resolve target %s: %s%s", upstream, target, uv_strerror(r.status),
              state.address.has_value() ? " (keeping the last address)" : "");
  }
  const bool not_found = r.status == UV_EAI_NONAME || r.status == UV_EAI_NODATA;
  return not_found ? policy.not_found_ms : policy.error_ms;
}

namespace {

// The lookups of one ResolveNewTargets call; frees itself after `done`.
struct Batch {
  struct Job {
    Batch* batch;
    TargetState* state;
    const Upstream* up;
    const TargetInfo* target;
  };

  std::shared_ptr<const Set> set;  // keeps every state and name alive
  DnsPolicy policy;
  absl::AnyInvocable<void(bool)> done;
  std::vector<Job> jobs;  // never resized once lookups start: jobs are their owners
  size_t pending = 0;
  bool cancelled = false;

  static void OnAnswer(void* owner, const net::Resolution& r) {
    auto* job = static_cast<Job*>(owner);
    Batch* b = job->batch;
    if (r.status == UV_EAI_CANCELED) {
      b->cancelled = true;
    } else {
      ApplyResolution(*job->state, r, b->policy, job->up->name(), job->target->target);
    }
    if (--b->pending == 0) {
      b->done(!b->cancelled);
      delete b;
    }
  }
};

}  // namespace

void ResolveNewTargets(net::Resolver* resolver, std::shared_ptr<const Set> set,
                       const DnsPolicy& policy, absl::AnyInvocable<void(bool)> done) {
  auto* b = new Batch();
  b->set = std::move(set);
  b->policy = policy;
  b->done = std::move(done);
  if (b->set != nullptr) {
    for (size_t u = 0; u < b->set->size(); ++u) {
      const Upstream& up = b->set->at(u);
      for (size_t i = 0; i < up.size(); ++i) {
        const TargetInfo& t = up.target(i);
        // A name carried over from the running config is the health checker's to refresh.
        if (!t.numeric && t.fresh && !t.state->address.has_value())
          b->jobs.push_back({b, t.state.get(), &up, &t});
      }
    }
  }
  // One extra count so that answers arriving inside Resolve cannot finish the batch early.
  b->pending = b->jobs.size() + 1;
  for (Batch::Job& job : b->jobs)
    resolver->Resolve(job.target->host, job.target->port, Batch::OnAnswer, &job);
  if (--b->pending == 0) {
    b->done(!b->cancelled);
    delete b;
  }
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// Hostname targets: how a resolver answer lands in a target's shared state, when the name is
// looked up again (Kong's TTL rules), and the lookup of a new config's new targets before the
// config goes live. Every lookup is asynchronous (net::Resolver); none blocks a loop.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"

#include "core/balancer/balancer.h"
#include "core/net/resolver.h"

namespace sluice::balancer {

// When to look a name up again, after Kong's dns_* settings.
struct DnsPolicy {
  uint64_t min_ttl_ms = 1000;     // a record's TTL is never honoured below this
  uint64_t no_ttl_ms = 30000;     // answers without a TTL (/etc/hosts, TTL 0)
  uint64_t error_ms = 1000;       // Kong's dns_error_ttl: after a timeout or server failure
  uint64_t not_found_ms = 30000;  // Kong's dns_not_found_ttl: after NXDOMAIN / no records
};

// A monotonic clock shared by all threads (uv_now is per loop), in milliseconds.
uint64_t MonotonicMs();

// Stores `r` in `state` and returns the milliseconds until the next lookup. A failure keeps the
// last good address (Kong's stale answers): a resolver hiccup should not take a target down.
// Logs failures, and changes of address at info level.
uint64_t ApplyResolution(TargetState& state, const net::Resolution& r, const DnsPolicy& policy,
                         absl::string_view upstream, absl::string_view target);

// Resolves every hostname target new in `set` (TargetInfo::fresh) that has no address yet, then
// calls `done` on the resolver's loop: at once when nothing needs a lookup, else after the
// last answer. `done(false)` when the resolver was destroyed first.
void ResolveNewTargets(net::Resolver* resolver, std::shared_ptr<const Set> set,
                       const DnsPolicy& policy, absl::AnyInvocable<void(bool)> done);

}  // namespace sluice::balancer

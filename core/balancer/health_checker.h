// SPDX-License-Identifier: Apache-2.0
// Active health checks and DNS refresh, once per process. Probes every target of every
// upstream whose healthchecks.active intervals are set (Kong: healthy targets every
// healthy.interval, unhealthy ones every unhealthy.interval) and writes the verdict into the
// shared TargetState, where every worker's picker sees it. Hostname targets are re-resolved
// when their DNS records expire (c-ares, on this loop; rules in dns.h); a failed refresh keeps
// the last good address.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include <uv.h>

#include "core/balancer/balancer.h"
#include "core/balancer/dns.h"
#include "core/balancer/probe.h"
#include "core/balancer/tls_probe.h"
#include "core/loop/uv_ptr.h"

namespace sluice::balancer {

struct CheckerOptions {
  net::ResolverOptions resolver;
  DnsPolicy dns;
};

// Runs on one loop and must be used from that loop's thread only. Active types: "http" sends
// `GET http_path HTTP/1.0` and classifies the status; "https" does the same over TLS (SNI and
// certificate checks per https_sni and https_verify_certificate; a TLS failure is a TCP
// failure); "tcp" only connects. "grpc" / "grpcs" get a TCP connect / a verified TLS
// handshake with a warning: the gRPC health protocol needs HTTP/2, which sluice does not speak.
// At most `concurrency` probes of one upstream run at once (Kong's active.concurrency); a
// target has at most one in flight.
class HealthChecker {
 public:
  HealthChecker(uv_loop_t* loop, CheckerOptions opts);
  ~HealthChecker();

  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Checks `set` from now on (nullptr: nothing). Probes of the previous set are cancelled;
  // every target is probed at once, then on its interval.
  void Update(std::shared_ptr<const Set> set);

  // Cancels probes and DNS lookups and closes the timer. Run the loop afterwards so the
  // handles finish closing.
  void Stop();

 private:
  struct Entry;

  bool MayProbe(const Entry& e) const;
  void Schedule();
  void Tick();
  void StartProbe(Entry& e, uint64_t now);
  void StartDns(Entry& e);
  static void OnProbeDone(void* owner, const ProbeResult& r);
  bool AddressVerdict(Entry& e, bool passed);
  static void OnDnsDone(void* owner, const net::Resolution& r);
  void ClearEntries();

  uv_loop_t* loop_;
  CheckerOptions opts_;
  loop::UvPtr<uv_timer_t> timer_;
  std::shared_ptr<const Set> set_;  // keeps every Entry's Upstream alive
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<int> probing_;                 // probes in flight per upstream of set_
  std::unique_ptr<net::Resolver> resolver_;  // nullptr: hostnames are not refreshed
  TlsContextPtr tls_ctx_;  // made for the first https/grpcs upstream; probes share it
  bool stopped_ = false;
};

// A HealthChecker on its own thread and loop, so probes and lookups never delay a worker or
// the admin loop. Update may be called from any thread; the destructor stops and joins.
class HealthCheckerThread {
 public:
  static absl::StatusOr<std::unique_ptr<HealthCheckerThread>> Start(CheckerOptions opts);
  ~HealthCheckerThread();

  HealthCheckerThread(const HealthCheckerThread&) = delete;
  HealthCheckerThread& operator=(const HealthCheckerThread&) = delete;

  void Update(std::shared_ptr<const Set> set);

 private:
  HealthCheckerThread() = default;

  static void Run(void* arg);
  static void OnAsync(uv_async_t* a);

  uv_loop_t loop_;
  uv_async_t async_;
  uv_thread_t thread_;
  CheckerOptions opts_;
  std::unique_ptr<HealthChecker> checker_;  // loop thread only
  absl::Mutex mu_;
  std::shared_ptr<const Set> pending_ ABSL_GUARDED_BY(mu_);
  bool has_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// What a worker hands to the connections it owns: its loop, pools, counters, settings and the
// config snapshot in force. One per worker thread; never shared across threads except the
// counters (read by the admin thread).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <uv.h>

#include "core/balancer/picker.h"
#include "core/common/buffer_pool.h"
#include "core/common/stats.h"
#include "core/filter_host/chain.h"
#include "core/filter_host/worker_host.h"
#include "core/proxy/snapshot.h"
#include "core/upstream/pool.h"

namespace sluice::proxy {

class AccessLog;
class Session;
struct Exchange;

// Limits and timeouts that are not per service (command line / defaults as nginx and Kong).
struct Settings {
  size_t max_header_bytes = 32 * 1024;  // request line + headers; 431 beyond
  size_t max_header_count = 100;        // 431 beyond
  uint64_t max_body_bytes = 0;          // 0 = unlimited (Kong's default); 413 beyond
  uint64_t client_header_timeout_ms = 60000;
  uint64_t keepalive_timeout_ms = 60000;
  uint64_t client_send_timeout_ms = 60000;
  uint64_t drain_timeout_ms = 10000;
  size_t upstream_idle_per_target = 128;
  uint64_t upstream_idle_timeout_ms = 60000;
  bool latency_headers = true;               // X-Sluice-Upstream-Latency / X-Sluice-Proxy-Latency
  uint64_t filter_pause_timeout_ms = 60000;  // a paused filter that never resumes: 500
};

// A worker's reference to a snapshot, counted without atomics: only the owning worker touches
// it. Retired references are freed when their last request ends.
struct WorkerSnapshot {
  std::shared_ptr<const Snapshot> snap;
  // This worker's state for the snapshot's filters (on_worker_new); declared after `snap` so
  // it goes first.
  std::unique_ptr<filter_host::WorkerFilters> filters;
  std::unique_ptr<balancer::WorkerPickers> pickers;  // this worker's half of snap->balancers
  int inflight = 0;
  bool retired = false;
};

struct WorkerContext {
  WorkerContext(uv_loop_t* l, const Settings& s, WorkerStats* st)
      : loop(l),
        settings(s),
        pool(l, s.upstream_idle_per_target, s.upstream_idle_timeout_ms),
        stats(st) {}

  uv_loop_t* loop;
  const Settings& settings;
  BufferPool buffers;
  upstream::Pool pool;
  WorkerStats* stats;
  AccessLog* access_log = nullptr;  // nullptr = off
  WorkerSnapshot* current = nullptr;
  bool draining = false;
  size_t sessions = 0;
  Session* sessions_head = nullptr;       // every open session, for draining
  std::vector<Exchange*> free_exchanges;  // recycled per-request state

  // Installs a new snapshot; the old one is freed once its last request ends. On the worker
  // thread once filters are on (StartFilters).
  void Install(std::shared_ptr<const Snapshot> snap);

  // On the worker thread, before serving: the filter host of this worker, and the filters'
  // worker state of the current snapshot. StopFilters undoes both (before the loop's last run).
  void StartFilters(int index);
  void StopFilters();
  bool LookupService(absl::string_view name, filter_host::ServiceEndpoint* out) const;

  std::unique_ptr<filter_host::WorkerHost> worker_host;

  // Takes a reference to the current snapshot for one request / drops it.
  WorkerSnapshot* Acquire() {
    ++current->inflight;
    return current;
  }

  void Release(WorkerSnapshot* ws) {
    if (--ws->inflight == 0 && ws->retired)
      delete ws;
  }

  ~WorkerContext();
};

}  // namespace sluice::proxy

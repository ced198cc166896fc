// SPDX-License-Identifier: Apache-2.0
// A worker thread: its own libuv loop, its own SO_REUSEPORT listeners, upstream pool and
// counters. The main thread talks to it only through Publish() and Drain(), which wake the loop
// with a uv_async_t.
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include <uv.h>

#include "core/common/stats.h"
#include "core/net/address.h"
#include "core/proxy/context.h"

namespace sluice::server {

class Worker {
 public:
  // `access_log_fd` < 0 disables the access log for this worker.
  Worker(int id, const proxy::Settings& settings, int access_log_fd);
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds the listeners (so address errors surface before any thread starts) and starts the
  // thread serving `snap`.
  absl::Status Start(const std::vector<net::ListenSpec>& listens,
                     std::shared_ptr<const proxy::Snapshot> snap);

  // Hands a new snapshot to the worker; thread-safe. In-flight requests keep their own.
  void Publish(std::shared_ptr<const proxy::Snapshot> snap);

  // Stops accepting and lets in-flight requests finish (bounded by Settings::drain_timeout_ms);
  // thread-safe. The thread ends by itself; Join() waits for it.
  void Drain();

  void Join();

  const WorkerStats& stats() const { return stats_; }

  uint64_t config_version() const { return config_version_.load(std::memory_order_relaxed); }

 private:
  struct Listener {
    uv_tcp_t tcp;
    Worker* worker;
    int port;
  };

  void Run();
  void OnAsync();
  void BeginDrain();
  void CheckDrained();
  void Shutdown();

  int id_;
  const proxy::Settings& settings_;
  int access_log_fd_;
  uv_loop_t loop_;
  uv_async_t async_;
  uv_timer_t* drain_timer_ = nullptr;
  uint64_t drain_deadline_ms_ = 0;
  std::vector<int> listen_fds_;
  std::vector<int> listen_ports_;
  std::vector<Listener*> listeners_;
  std::unique_ptr<proxy::WorkerContext> ctx_;
  WorkerStats stats_;
  std::atomic<uint64_t> config_version_{0};
  std::thread thread_;
  bool shut_down_ = false;

  absl::Mutex mu_;
  std::shared_ptr<const proxy::Snapshot> pending_ ABSL_GUARDED_BY(mu_);
  bool drain_requested_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sluice::server

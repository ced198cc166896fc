// SPDX-License-Identifier: Apache-2.0
// The per-worker side of the filter host: the worker's loop (timers, HTTP calls), a thread-safe
// mailbox (request_ref_resume / request_ref_post from any thread, and resumes deferred to the
// next loop turn), the service lookup behind http_call, and the per-worker states of a config's
// filters (on_worker_new / on_worker_destroy).
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include <uv.h>

#include <sluice/filter.h>

#include "core/filter_host/http_call.h"
#include "core/filter_host/registry.h"

namespace sluice::filter_host {

class RequestChain;
struct Slot;

// A thread-safe, counted pointer to one filter's view of a request (sluice_request_ref*).
// `chain` and `slot` are touched only on the worker; the chain clears them when it ends.
struct RequestRef {
  std::atomic<int> refs{1};
  class Mailbox* mailbox = nullptr;  // kept alive by `mailbox_owner`
  std::shared_ptr<Mailbox> mailbox_owner;
  RequestChain* chain = nullptr;
  Slot* slot = nullptr;
  RequestRef* next = nullptr;  // the chain's list of its refs

  void Unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete this;
  }
};

// Work for a worker, posted from any thread. Runs on the worker's loop in posting order.
class Mailbox {
 public:
  enum class Kind : uint8_t { kResume, kPost, kDeferred };

  struct Task {
    Kind kind;
    RequestRef* ref;  // holds one reference, dropped after the task ran
    sluice_request_fn fn;
    void* user_data;
  };

  // Queues `task`; false (and nothing queued) once the worker has stopped.
  bool Post(const Task& task);

 private:
  friend class WorkerHost;

  absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  uv_async_t* async_ ABSL_GUARDED_BY(mu_) = nullptr;  // nullptr once closed
};

class WorkerHost {
 public:
  // Construct on the worker thread, with its loop; `index` is the 0-based worker number.
  WorkerHost(uv_loop_t* loop, int index);

  // Stops timers, HTTP calls still in flight (their done functions never run) and the mailbox
  // (pending posts are dropped). The loop must run afterwards so the handles' close callbacks
  // free them.
  ~WorkerHost();

  WorkerHost(const WorkerHost&) = delete;
  WorkerHost& operator=(const WorkerHost&) = delete;

  uv_loop_t* loop() const { return loop_; }

  int index() const { return index_; }

  const std::shared_ptr<Mailbox>& mailbox() const { return mailbox_; }

  // The WorkerHost of the calling thread, or nullptr (for thread checks).
  static WorkerHost* Current();

  // Host side of timer_start / timer_cancel.
  sluice_status StartTimer(uint64_t delay_ms, uint64_t repeat_ms, sluice_timer_fn fn,
                           void* user_data, sluice_timer** out);
  static sluice_status CancelTimer(sluice_timer* timer);

  // Where http_call finds services: set by the proxy on this worker's thread, before requests.
  // Until set, every service name is unknown. The lookup must stay valid while this WorkerHost
  // lives (it runs on this thread only, so it may read the worker's current config snapshot).
  void SetServiceLookup(ServiceLookup lookup) { service_lookup_ = std::move(lookup); }

  // false when no lookup is set or it does not know `name`.
  bool LookupService(absl::string_view name, ServiceEndpoint* out) const {
    return service_lookup_ && service_lookup_(name, out);
  }

  // The calls in flight on this worker (http_call.cc), abandoned by the destructor.
  void TrackHttpCall(HttpCall* call) { http_calls_.insert(call); }

  void UntrackHttpCall(HttpCall* call) { http_calls_.erase(call); }

 private:
  struct Timer;
  static void OnAsync(uv_async_t* handle);
  static void OnTimer(uv_timer_t* handle);
  static void CloseTimer(Timer* t);
  void RunTask(const Mailbox::Task& task);

  uv_loop_t* loop_;
  int index_;
  std::shared_ptr<Mailbox> mailbox_;
  absl::flat_hash_set<Timer*> timers_;
  ServiceLookup service_lookup_;
  absl::flat_hash_set<HttpCall*> http_calls_;
};

// The per-worker states of every instance of one Chains (one config snapshot) on one worker.
// Created when the worker installs the snapshot, destroyed (on the worker) when the worker's
// last request on that snapshot ended. Owns nothing of the Chains, which must outlive it.
class WorkerFilters {
 public:
  // Runs on_worker_new of every configured instance; a failure is logged and marks that
  // instance failed on this worker (its requests get 500).
  WorkerFilters(WorkerHost& worker, const Chains& chains);
  ~WorkerFilters();  // on_worker_destroy of every instance whose on_worker_new succeeded

  WorkerFilters(const WorkerFilters&) = delete;
  WorkerFilters& operator=(const WorkerFilters&) = delete;

  WorkerHost& worker() const { return worker_; }

  const Chains& chains() const { return chains_; }

  void* state(const Instance& in) const { return states_[in.index].state; }

  bool failed(const Instance& in) const { return states_[in.index].failed; }

 private:
  struct State {
    void* state = nullptr;
    bool created = false;
    bool failed = false;
  };

  WorkerHost& worker_;
  const Chains& chains_;
  std::vector<State> states_;
};

}  // namespace sluice::filter_host

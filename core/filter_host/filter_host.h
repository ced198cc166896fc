// SPDX-License-Identifier: Apache-2.0
// The host side of the filter ABI: one FilterHost per process owns the sluice_host_api table
// handed to every module, the metrics filters define and the counters they share across
// workers. Each callback casts its handle back (sluice_request* -> Slot, sluice_instance* ->
// Instance, sluice_worker* -> WorkerHost, ...) and forwards to the object that owns the state;
// nothing here is per request. Created on the main thread before any module is loaded; must
// outlive every module (in practice: the process).
#pragma once

#include <functional>

#include "absl/synchronization/mutex.h"

#include <sluice/filter.h>

#include "core/filter_host/metrics.h"
#include "core/filter_host/shared_counters.h"

namespace sluice::filter_host {

class FilterHost {
 public:
  FilterHost();

  FilterHost(const FilterHost&) = delete;
  FilterHost& operator=(const FilterHost&) = delete;

  // The callback table (process-owned). Every callback is offered; http_call reaches services
  // through the calling worker's lookup (WorkerHost::SetServiceLookup).
  const sluice_host_api& api() const { return api_; }

  // What upstream_health_list reports: set by whoever owns upstream health (the server), called
  // on any thread, so it must be thread-safe itself. Until set, the list is empty.
  using HealthLister = std::function<void(sluice_target_health_fn fn, void* user_data)>;
  void SetHealthLister(HealthLister lister);
  void ListTargets(sluice_target_health_fn fn, void* user_data);

  Metrics& metrics() { return metrics_; }

  SharedCounters& counters() { return counters_; }

 private:
  sluice_host_api api_{};
  Metrics metrics_;
  SharedCounters counters_;
  absl::Mutex health_mu_;
  HealthLister health_lister_ ABSL_GUARDED_BY(health_mu_);
};

}  // namespace sluice::filter_host

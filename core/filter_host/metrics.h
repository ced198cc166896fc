// SPDX-License-Identifier: Apache-2.0
// Metrics that filters define (metric_define) and record (metric_add/set/observe), rendered in
// the Prometheus text format for the admin /metrics endpoint. Definitions happen on the main
// thread at config time; recording is thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include <sluice/filter.h>

namespace sluice::filter_host {

class Metric {
 public:
  Metric(sluice_metric_kind kind, std::string name, std::string help,
         std::vector<std::string> labels, std::vector<double> buckets);

  // Records one value for one label combination (values in definition order). Returns
  // SLUICE_ERR_INVALID for a wrong label count or an operation that does not fit the kind,
  // SLUICE_ERR_LIMIT past kMaxSeries label combinations.
  sluice_status Add(const sluice_str* labels, size_t n, double delta);
  sluice_status Set(const sluice_str* labels, size_t n, double value);
  sluice_status Observe(const sluice_str* labels, size_t n, double value);

  // Appends this metric's # HELP, # TYPE and sample lines.
  void Render(std::string* out) const;

  sluice_metric_kind kind() const { return kind_; }

  const std::string& name() const { return name_; }

  const std::vector<std::string>& labels() const { return labels_; }

  static constexpr size_t kMaxSeries = 10000;

 private:
  struct Series {
    double value = 0;              // counter / gauge
    std::vector<uint64_t> counts;  // histogram: one per bucket (not cumulative), then +Inf
    double sum = 0;
    uint64_t count = 0;
  };

  // Finds or creates the series; nullptr when labels are bad or the limit is reached.
  Series* Find(const sluice_str* labels, size_t n, sluice_status* err)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const sluice_metric_kind kind_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  const std::vector<double> buckets_;
  // TODO(sdk): per-worker shards so recording takes no shared lock, issue #filter-abi.
  mutable absl::Mutex mu_;
  std::map<std::string, Series> series_ ABSL_GUARDED_BY(mu_);  // key: rendered label set
};

class Metrics {
 public:
  // Defines (or, for the same name, kind and labels, returns) a metric. Errors are lower-case
  // reasons ("metric name 'x y' is not a valid prometheus name").
  absl::StatusOr<Metric*> Define(const sluice_metric_desc& desc);

  // The Prometheus text exposition of every metric, sorted by name.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Metric>> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::filter_host

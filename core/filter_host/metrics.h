// SPDX-License-Identifier: Apache-2.0
// Metrics that filters define (metric_define) and record (metric_add/set/observe), rendered in
// the Prometheus text format 0.0.4 for the admin /metrics endpoint. Definitions happen on the
// main thread at config time; recording is thread-safe and, once a series exists, takes no lock:
// the series is found in an insert-only lock-free hash index, and counter and histogram values
// live in per-thread shards of relaxed atomics that Render() adds up (DESIGN.md §3). Only the
// creation of a new series takes the metric's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include <sluice/filter.h>

namespace sluice::filter_host {

class Metric {
 public:
  Metric(sluice_metric_kind kind, std::string name, std::string help,
         std::vector<std::string> labels, std::vector<double> buckets);
  ~Metric();

  Metric(const Metric&) = delete;
  Metric& operator=(const Metric&) = delete;

  // Records one value for one label combination (values in definition order). Any thread.
  // Returns SLUICE_ERR_INVALID for a wrong label count, a NaN, a negative counter delta or an
  // operation that does not fit the kind; SLUICE_ERR_LIMIT past kMaxSeries label combinations.
  sluice_status Add(const sluice_str* labels, size_t n, double delta);
  sluice_status Set(const sluice_str* labels, size_t n, double value);
  sluice_status Observe(const sluice_str* labels, size_t n, double value);

  // Appends this metric's # HELP, # TYPE and sample lines (series sorted by label text), or
  // nothing while it has no series, as the Prometheus client libraries do.
  void Render(std::string* out) const;

  sluice_metric_kind kind() const { return kind_; }

  const std::string& name() const { return name_; }

  const std::vector<std::string>& labels() const { return labels_; }

  static constexpr size_t kMaxSeries = 10000;

  // How many value shards each series has; threads pick one round-robin on first use.
  static size_t ShardCount();

 private:
  struct Series;
  struct Index;

  // Finds the series for these label values, creating it when `create` (under mu_); nullptr
  // with *err set when the labels are bad or the limit is reached.
  Series* Find(const sluice_str* labels, size_t n, sluice_status* err);
  Series* Create(const sluice_str* labels, size_t n, uint64_t hash, sluice_status* err);

  const sluice_metric_kind kind_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  const std::vector<double> buckets_;
  const size_t cells_;  // uint64 cells per series and shard: 1, or buckets + 1 counts and a sum
  const size_t lines_;  // 64-byte lines per series and shard, so shards never share a line

  // The lookup table readers probe without a lock; replaced (never modified in place except
  // for filling empty slots) when it grows. Old tables stay alive in retired_ because a reader
  // may still be probing them.
  std::atomic<Index*> index_{nullptr};

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Index>> tables_ ABSL_GUARDED_BY(mu_);
};

class Metrics {
 public:
  // Defines (or, for the same name, kind and labels, returns) a metric. Errors are lower-case
  // reasons ("metric name 'x y' is not a valid prometheus name").
  absl::StatusOr<Metric*> Define(const sluice_metric_desc& desc);

  // The Prometheus text exposition of every metric that has a series, sorted by name.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Metric>> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::filter_host

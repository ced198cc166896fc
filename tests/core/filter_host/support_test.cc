// SPDX-License-Identifier: Apache-2.0
// The host's building blocks: the request arena, the shared counters and the metrics text.
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "core/filter_host/arena.h"
#include "core/filter_host/metrics.h"
#include "core/filter_host/shared_counters.h"

namespace sluice::filter_host {
namespace {

TEST_CASE("filter_host arena: aligned allocations, large blocks, reset", "[filter_host]") {
  Arena a;
  void* p = a.Allocate(3, 1);
  void* q = a.Allocate(8, 64);
  REQUIRE(p != nullptr);
  REQUIRE(q != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(q) % 64 == 0);
  CHECK(a.Allocate(1, 3) == nullptr);
  CHECK(a.Allocate(100000, 8) != nullptr);
  CHECK(a.Copy("hello") == "hello");
  a.Reset();
  CHECK(a.Allocate(16, 16) != nullptr);
}

TEST_CASE("filter_host shared counters: add, expire, restart", "[filter_host]") {
  SharedCounters c;
  int64_t v = 0;
  REQUIRE(c.Add("rl:a", 1, 1000, 5000, &v));
  CHECK(v == 1);
  REQUIRE(c.Add("rl:a", 2, 1000, 5999, &v));
  CHECK(v == 3);
  REQUIRE(c.Add("rl:b", 1, 0, 5999, &v));
  CHECK(v == 1);
  REQUIRE(c.Add("rl:a", 1, 1000, 6000, &v));  // expired at 6000: a new window
  CHECK(v == 1);
  REQUIRE(c.Add("rl:b", 1, 0, 999999, &v));  // ttl 0 never expires
  CHECK(v == 2);
}

TEST_CASE("filter_host metrics: prometheus text for the three kinds", "[filter_host]") {
  Metrics metrics;
  sluice_str labels[] = {{"route", 5}};
  sluice_metric_desc d{};
  d.struct_size = sizeof d;
  d.kind = SLUICE_METRIC_COUNTER;
  d.name = {"t_requests_total", 16};
  d.help = {"Requests.", 9};
  d.label_names = labels;
  d.label_count = 1;
  absl::StatusOr<Metric*> counter = metrics.Define(d);
  REQUIRE(counter.ok());
  CHECK(*metrics.Define(d) == *counter);  // same definition: same metric
  sluice_str a[] = {{"a\"b", 3}};
  CHECK((*counter)->Add(a, 1, 2) == SLUICE_OK);
  CHECK((*counter)->Add(a, 1, -1) == SLUICE_ERR_INVALID);
  CHECK((*counter)->Add(a, 0, 1) == SLUICE_ERR_INVALID);

  d.kind = SLUICE_METRIC_HISTOGRAM;
  d.name = {"t_latency", 9};
  d.help = {"Latency.", 8};
  d.label_count = 0;
  double buckets[] = {1, 5};
  d.buckets = buckets;
  d.bucket_count = 2;
  absl::StatusOr<Metric*> hist = metrics.Define(d);
  REQUIRE(hist.ok());
  CHECK((*hist)->Observe(nullptr, 0, 3) == SLUICE_OK);
  CHECK((*hist)->Observe(nullptr, 0, 7) == SLUICE_OK);

  d.kind = SLUICE_METRIC_GAUGE;
  d.name = {"bad name", 8};
  CHECK(metrics.Define(d).status().message() ==
        "metric name 'bad name' is not a valid prometheus name");
  d.name = {"t_latency", 9};
  CHECK(metrics.Define(d).status().message() ==
        "metric t_latency is already defined with another kind or labels");

  CHECK(metrics.Render() ==
        "# HELP t_latency Latency.\n"
        "# TYPE t_latency histogram\n"
        "t_latency_bucket{le=\"1\"} 0\n"
        "t_latency_bucket{le=\"5\"} 1\n"
        "t_latency_bucket{le=\"+Inf\"} 2\n"
        "t_latency_sum 10\n"
        "t_latency_count 2\n"
        "# HELP t_requests_total Requests.\n"
        "# TYPE t_requests_total counter\n"
        "t_requests_total{route=\"a\\\"b\"} 2\n");
}

}  // namespace
}  // namespace sluice::filter_host

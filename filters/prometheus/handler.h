// SPDX-License-Identifier: Apache-2.0
// The prometheus hooks, written against the C ABI directly: the filter needs no per-request
// state (everything is read in on_log), and a worker timer for target health, which the C++
// wrapper does not offer. Metrics are served by the host on the admin /metrics endpoint.
#pragma once

#include <cstdint>

#include <sluice/filter.h>

namespace sluice::filters::prometheus {

inline constexpr int32_t kPriority = 13;  // Kong's

// How often one worker per plugin instance re-reads upstream target health into the gauge.
inline constexpr uint64_t kHealthRefreshMs = 1000;

// Kong 3.9's buckets (reference/kong.md §8.2), in milliseconds.
inline constexpr double kKongLatencyBuckets[] = {1,  2,   5,   7,   10,  15,   20,   30,  50,
                                                 75, 100, 200, 500, 750, 1000, 3000, 6000};
inline constexpr double kLatencyBuckets[] = {25,   50,   80,   100,   250,   400,  700,
                                             1000, 2000, 5000, 10000, 30000, 60000};

// The module's descriptor, remembering `host` for every hook (entry.cc exports it; unit tests
// call it with a fake host). Main thread.
const sluice_filter_descriptor* Describe(const sluice_host_api* host);

}  // namespace sluice::filters::prometheus

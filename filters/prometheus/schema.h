// SPDX-License-Identifier: Apache-2.0
// The prometheus config (Kong's schema, reference/kong.md §8.1): five booleans, all false by
// default as in Kong 3.x, parsed once into an immutable Config.
#pragma once

#include <string_view>

namespace sluice::filters::prometheus {

struct Config {
  bool per_consumer = false;             // fill the `consumer` label with the username
  bool status_code_metrics = false;      // kong_http_requests_total
  bool latency_metrics = false;          // the three kong_*_latency_ms histograms
  bool bandwidth_metrics = false;        // kong_bandwidth_bytes
  bool upstream_health_metrics = false;  // kong_upstream_target_health
  // Kong's ai_metrics and wasm_metrics are accepted (so a Kong file loads) and export nothing:
  // sluice has no AI proxy or wasm filters.
  bool ai_metrics = false;
  bool wasm_metrics = false;
};

// Parses the `config:` JSON text. Throws sluice::ConfigError("config.<field>: <what>").
Config ParseConfig(std::string_view json);

}  // namespace sluice::filters::prometheus

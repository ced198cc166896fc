// SPDX-License-Identifier: Apache-2.0
#include "schema.h"

#include <sluice/json.hpp>

namespace sluice::filters::prometheus {

Config ParseConfig(std::string_view json) {
  const sluice::json::Value root = sluice::json::Parse(json);
  root.AllowOnly({"per_consumer", "status_code_metrics", "latency_metrics", "bandwidth_metrics",
                  "upstream_health_metrics", "ai_metrics", "wasm_metrics"});
  Config c;
  // Kong's booleans have defaults, so an explicit null means the default (Find skips nulls).
  const auto flag = [&](std::string_view name, bool* out) {
    if (const sluice::json::Value* v = root.Find(name))
      *out = v->Bool();
  };
  flag("per_consumer", &c.per_consumer);
  flag("status_code_metrics", &c.status_code_metrics);
  flag("latency_metrics", &c.latency_metrics);
  flag("bandwidth_metrics", &c.bandwidth_metrics);
  flag("upstream_health_metrics", &c.upstream_health_metrics);
  flag("ai_metrics", &c.ai_metrics);
  flag("wasm_metrics", &c.wasm_metrics);
  return c;
}

}  // namespace sluice::filters::prometheus

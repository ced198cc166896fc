// SPDX-License-Identifier: Apache-2.0
#include "core/server/status.h"

#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>

namespace sluice::server {
namespace {

struct Totals {
  uint64_t accepted = 0;
  int64_t active = 0;
  uint64_t requests = 0;
  uint64_t by_class[6] = {};
  uint64_t connect_failures = 0;
  uint64_t timeouts = 0;
  uint64_t upstream_opened = 0;
};

Totals Sum(const std::vector<const WorkerStats*>& workers) {
  Totals t;
  constexpr auto r = std::memory_order_relaxed;
  for (const WorkerStats* w : workers) {
    t.accepted += w->connections_accepted.load(r);
    t.active += w->connections_active.load(r);
    t.requests += w->requests.load(r);
    for (int i = 0; i < 6; ++i)
      t.by_class[i] += w->responses_by_class[i].load(r);
    t.connect_failures += w->upstream_connect_failures.load(r);
    t.timeouts += w->upstream_timeouts.load(r);
    t.upstream_opened += w->upstream_connections_opened.load(r);
  }
  return t;
}

}  // namespace

std::string StatusJson(const std::vector<const WorkerStats*>& workers, uint64_t config_version,
                       const config::Config& config) {
  Totals t = Sum(workers);
  nlohmann::json j;
  j["server"] = {{"connections_accepted", t.accepted},
                 {"connections_active", t.active},
                 {"total_requests", t.requests}};
  j["workers"] = workers.size();
  j["config"] = {{"version", config_version},
                 {"services", config.services.size()},
                 {"routes", config.routes.size()},
                 {"plugins", config.plugins.size()}};
  j["version"] = SLUICE_VERSION;
  return j.dump();
}

std::string MetricsText(const std::vector<const WorkerStats*>& workers, uint64_t config_version) {
  Totals t = Sum(workers);
  std::string out;
  absl::StrAppend(&out,
                  "# HELP sluice_connections_accepted_total Client connections accepted.\n"
                  "# TYPE sluice_connections_accepted_total counter\n"
                  "sluice_connections_accepted_total ",
                  t.accepted,
                  "\n# HELP sluice_connections_active Client connections open now.\n"
                  "# TYPE sluice_connections_active gauge\n"
                  "sluice_connections_active ",
                  t.active,
                  "\n# HELP sluice_requests_total Requests received, by response status class.\n"
                  "# TYPE sluice_requests_total counter\n");
  static constexpr const char* kClass[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 6; ++i) {
    absl::StrAppend(&out, "sluice_requests_total{status_class=\"", kClass[i], "\"} ", t.by_class[i],
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP sluice_upstream_connect_failures_total Failed upstream connects.\n"
                  "# TYPE sluice_upstream_connect_failures_total counter\n"
                  "sluice_upstream_connect_failures_total ",
                  t.connect_failures,
                  "\n# HELP sluice_upstream_timeouts_total Upstream timeouts (504).\n"
                  "# TYPE sluice_upstream_timeouts_total counter\n"
                  "sluice_upstream_timeouts_total ",
                  t.timeouts,
                  "\n# HELP sluice_upstream_connections_opened_total New upstream connections.\n"
                  "# TYPE sluice_upstream_connections_opened_total counter\n"
                  "sluice_upstream_connections_opened_total ",
                  t.upstream_opened,
                  "\n# HELP sluice_config_version Version of the config in force.\n"
                  "# TYPE sluice_config_version gauge\n"
                  "sluice_config_version ",
                  config_version, "\n");
  return out;
}

}  // namespace sluice::server

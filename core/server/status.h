// SPDX-License-Identifier: Apache-2.0
// Renders the admin API's GET /status (JSON) and GET /metrics (Prometheus text) from the
// workers' counters. Called on the main thread; reads counters with relaxed loads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/stats.h"
#include "core/config/config.h"

namespace sluice::server {

std::string StatusJson(const std::vector<const WorkerStats*>& workers, uint64_t config_version,
                       const config::Config& config);

std::string MetricsText(const std::vector<const WorkerStats*>& workers, uint64_t config_version);

}  // namespace sluice::server

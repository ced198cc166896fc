// SPDX-License-Identifier: Apache-2.0
// An immutable, ready-to-serve configuration: the validated config, its compiled router and the
// resolved upstream endpoints of every service. Built on the main thread, shared read-only by
// all workers; a reload builds a new one and workers switch at their next turn.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "core/config/config.h"
#include "core/filter_host/loader.h"
#include "core/filter_host/registry.h"
#include "core/net/address.h"
#include "core/router/router.h"

namespace sluice::proxy {

// One place a service's requests may go.
struct Endpoint {
  net::Address address;
  std::string host_header;  // Host sent upstream unless preserve_host: "host" or "host:port"
  int weight = 100;
};

struct ServiceRoute {
  std::string path;                 // service path, "" when none
  std::vector<Endpoint> endpoints;  // empty: resolution failed (503 name resolution failed)
  bool via_upstream = false;        // host named an `upstreams` entry
  bool https = false;
  uint64_t connect_timeout_ms = 60000;
  uint64_t write_timeout_ms = 60000;
  uint64_t read_timeout_ms = 60000;
  int retries = 5;
};

struct Snapshot {
  uint64_t version = 0;
  config::Config config;
  std::unique_ptr<router::Router> router;
  std::vector<ServiceRoute> services;  // parallel to config.services
  // The plugins' chains (filter_host/registry.h). Its destructor runs on_config_destroy, so the
  // last reference to a snapshot must be dropped on the main thread (the server keeps retired
  // snapshots until the workers let go of them).
  std::unique_ptr<filter_host::Chains> filters;
};

// Where BuildSnapshot loads and configures plugins (main thread). Without one, a config that
// names plugins is refused.
struct FilterSetup {
  filter_host::Loader* loader = nullptr;
  filter_host::FilterHost* host = nullptr;
};

// Compiles `config` into a snapshot. Service host names are resolved here, on the calling
// (main) thread, never on a worker loop.
absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(config::Config config,
                                                              uint64_t version,
                                                              FilterSetup filters = {});

}  // namespace sluice::proxy

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

#include "core/balancer/balancer.h"
#include "core/config/config.h"
#include "core/filter_host/loader.h"
#include "core/filter_host/registry.h"
#include "core/net/address.h"
#include "core/router/router.h"

namespace sluice::proxy {

// Where a service whose host is not an upstream sends its requests.
struct Endpoint {
  net::Address address;
  std::string host_header;  // Host sent upstream unless preserve_host: "host" or "host:port"
};

struct ServiceRoute {
  std::string path;                 // service path, "" when none
  std::vector<Endpoint> endpoints;  // an IP literal host: its one endpoint
  int upstream = -1;      // host names an `upstreams` entry, or is a DNS name: index in balancers
  bool dns_name = false;  // the host is a DNS name (its implicit upstream has one target)
  std::vector<std::string> target_host_headers;  // with `upstream`: Host per target, in order
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
  // The balancers of config.upstreams (process-shared target state; workers keep pickers).
  std::shared_ptr<const balancer::Set> balancers;
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

// Compiles `config` into a snapshot. Service and target host names are resolved here, on the
// calling (main) thread, never on a worker loop. Targets that `previous` (the snapshot in
// force, may be null) also has keep their health, breaker and connection counts.
absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(config::Config config,
                                                              uint64_t version,
                                                              FilterSetup filters = {},
                                                              const Snapshot* previous = nullptr);

}  // namespace sluice::proxy

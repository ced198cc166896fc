// SPDX-License-Identifier: Apache-2.0
// Turns a config::Config into ready filter chains: loads each plugin's module, creates one
// instance per plugin entry (on_config_new, with the filter's errors mapped to file:line:col),
// and precomputes, for every route, the chain Kong would run: for each plugin name the most
// specific enabled instance (route+service+consumer ... global), sorted by descriptor priority,
// higher first. Consumer-scoped plugins can only apply once an auth filter has set the
// consumer, so chains for (route, consumer) are precomputed too and looked up then.
// Built and destroyed on the main thread; read-only (shared by all workers) in between.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <sluice/filter.h>

#include "core/config/config.h"
#include "core/filter_host/loader.h"

namespace sluice::filter_host {

class FilterHost;

// One plugin entry of the config, configured. A `sluice_instance*` points to one of these.
struct Instance {
  const Module* module = nullptr;
  FilterHost* host = nullptr;
  void* config = nullptr;  // the filter's, from on_config_new
  int index = -1;          // position in Chains::instances()
  int plugin = -1;         // position in config::Config::plugins
  std::string name;
  int32_t priority = 0;
  int route = -1;  // scope, as in config::Plugin
  int service = -1;
  int consumer = -1;
  bool enabled = true;
  bool configured = false;  // on_config_new succeeded: on_config_destroy is owed
  // Only while on_config_new runs (main thread): what config_error reported.
  bool configuring = false;
  std::vector<std::string> errors;
  const config::Config* source = nullptr;  // for credentials_get
  std::string scratch;                     // credentials_get's answer
};

// The filters one request runs, in order (priority descending, then name).
struct Chain {
  std::vector<const Instance*> filters;
  bool request_body = false;   // some filter has SLUICE_CAP_REQUEST_BODY
  bool response_body = false;  // some filter has SLUICE_CAP_RESPONSE_BODY
  // True when a consumer-scoped instance could apply to this chain's route: the proxy-side
  // runner then looks the chain up again after consumer_set.
  bool consumer_scoped = false;
};

// The identity consumer_set resolves to (copied from config::Consumer).
struct ConsumerInfo {
  std::string id;
  std::string username;
  std::string custom_id;
};

// Kong's precedence rank of a plugin's scope: 1 (route+service+consumer) .. 8 (global).
int ScopeRank(int route, int service, int consumer);

// For a request on `route` (whose service is `service`, -1 for none) with `consumer` (-1 when
// none is known), the index in `plugins` of the instance each plugin name uses: the enabled
// match with the lowest ScopeRank (file order breaks ties). Unordered (sorted by name).
std::vector<int> ResolvePlugins(const std::vector<config::Plugin>& plugins, int route, int service,
                                int consumer);

// Chain order: higher priority first, then plugin name (so equal priorities are stable).
bool RunsBefore(const Instance& a, const Instance& b);

// Maps a filter's config error ("config.minute: must be greater than 0") to
// "file:line:col: message" using the plugin's config_marks: the longest path prefix that has a
// mark, else the plugin entry's own mark.
std::string MapConfigError(const std::string& file, const config::Plugin& plugin,
                           absl::string_view message);

class Chains {
 public:
  // Loads and configures every plugin of `config`. Errors are every problem found, one
  // "file:line:col: message" per line, in file order.
  static absl::StatusOr<std::unique_ptr<Chains>> Build(const config::Config& config, Loader& loader,
                                                       FilterHost& host);

  Chains(const Chains&) = delete;
  Chains& operator=(const Chains&) = delete;

  // Calls on_config_destroy for every instance. Main thread, after every worker dropped its
  // WorkerFilters for these chains.
  ~Chains();

  // The chain of a request matched to `route` (index in config.routes) before any consumer is
  // known; route -1 (no route matched) gives the global plugins only.
  const Chain& ForRoute(int route) const;

  // The chain once `consumer` (index in config.consumers) is authenticated.
  const Chain& ForConsumer(int route, int consumer) const;

  // Finds a consumer by id, then username, then custom_id; -1 when none.
  int FindConsumer(absl::string_view key) const;

  const ConsumerInfo& consumer(int index) const { return consumers_[index]; }

  const std::vector<std::unique_ptr<Instance>>& instances() const { return instances_; }

 private:
  Chains() = default;

  // Returns a chain with exactly these plugin indexes, shared with equal chains.
  const Chain* Intern(std::vector<int> plugins, bool consumer_scoped);

  std::vector<std::unique_ptr<Instance>> instances_;  // parallel to config.plugins
  std::vector<std::unique_ptr<Chain>> storage_;
  absl::flat_hash_map<std::string, const Chain*> interned_;
  std::vector<const Chain*> by_route_;                      // [0] = unrouted, [r + 1] = route r
  absl::flat_hash_map<int64_t, const Chain*> by_consumer_;  // key: route << 32 | consumer
  std::vector<ConsumerInfo> consumers_;
  absl::flat_hash_map<std::string, int> consumer_by_id_, consumer_by_username_,
      consumer_by_custom_id_;
};

}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
#include "handler.h"

#include <atomic>
#include <charconv>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>

#include <sluice/filter.hpp>

#include "schema.h"

namespace sluice::filters::prometheus {
namespace {

const sluice_host_api* g_host = nullptr;

// sluice has no workspaces or stream proxy: Kong's values for a single-workspace HTTP node.
constexpr std::string_view kWorkspace = "default";
constexpr std::string_view kSubsystem = "http";
constexpr std::string_view kHealthStates[] = {"healthchecks_off", "healthy", "unhealthy",
                                              "dns_error"};

// Handles from metric_define: process-owned, shared by every instance that defines the name.
struct Metrics {
  sluice_metric* errors = nullptr;
  sluice_metric* datastore = nullptr;
  sluice_metric* node_info = nullptr;
  sluice_metric* requests = nullptr;
  sluice_metric* kong_latency = nullptr;
  sluice_metric* upstream_latency = nullptr;
  sluice_metric* request_latency = nullptr;
  sluice_metric* bandwidth = nullptr;
  sluice_metric* target_health = nullptr;
};

// The filter-owned config: read by every worker; only the timer claim changes.
struct Instance {
  Config config;
  Metrics metrics;
  // One worker per instance refreshes target health; the first on_worker_new takes it.
  std::atomic<bool> health_timer_taken{false};
};

struct WorkerState {
  Instance* instance = nullptr;
  sluice_timer* timer = nullptr;
};

// A random version-4 UUID, made once per process: Kong's node_id label.
const std::string& NodeId() {
  static const std::string id = [] {
    std::random_device rd;
    unsigned char b[16];
    for (size_t i = 0; i < sizeof b; i += 4) {
      const uint32_t r = rd();
      for (size_t k = 0; k < 4; ++k)
        b[i + k] = static_cast<unsigned char>(r >> (8 * k));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < sizeof b; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        s.push_back('-');
      s.push_back(kHex[b[i] >> 4]);
      s.push_back(kHex[b[i] & 0x0F]);
    }
    return s;
  }();
  return id;
}

// Defines one metric; on refusal reports a config error naming it and returns false.
bool Define(sluice_instance* inst, sluice_metric_kind kind, std::string_view name,
            std::string_view help, std::initializer_list<std::string_view> labels,
            std::span<const double> buckets, sluice_metric** out) {
  sluice_str names[8];
  size_t n = 0;
  for (std::string_view l : labels)
    names[n++] = Str(l);
  sluice_metric_desc d{};
  d.struct_size = sizeof d;
  d.kind = kind;
  d.name = Str(name);
  d.help = Str(help);
  d.label_names = n == 0 ? nullptr : names;
  d.label_count = n;
  d.buckets = buckets.empty() ? nullptr : buckets.data();
  d.bucket_count = buckets.size();
  if (g_host->metric_define(inst, &d, out) == SLUICE_OK)
    return true;
  const std::string msg = "config: metric " + std::string(name) + " could not be defined";
  g_host->config_error(inst, Str(msg));
  return false;
}

// Kong's node-level series always exist; the per-request ones only when their switch is on.
bool DefineAll(sluice_instance* inst, Instance* in) {
  const Config& c = in->config;
  Metrics& m = in->metrics;
  constexpr std::span<const double> kNone;
  if (!Define(inst, SLUICE_METRIC_COUNTER, "kong_nginx_metric_errors_total",
              "Number of nginx-lua-prometheus errors", {}, kNone, &m.errors) ||
      !Define(inst, SLUICE_METRIC_GAUGE, "kong_datastore_reachable",
              "Datastore reachable from Kong, 0 is unreachable", {}, kNone, &m.datastore) ||
      !Define(inst, SLUICE_METRIC_GAUGE, "kong_node_info", "Kong Node metadata information",
              {"node_id", "version"}, kNone, &m.node_info)) {
    return false;
  }
  if (c.status_code_metrics &&
      !Define(inst, SLUICE_METRIC_COUNTER, "kong_http_requests_total",
              "HTTP status codes per consumer/service/route in Kong",
              {"service", "route", "code", "source", "workspace", "consumer"}, kNone,
              &m.requests)) {
    return false;
  }
  if (c.latency_metrics &&
      (!Define(inst, SLUICE_METRIC_HISTOGRAM, "kong_kong_latency_ms",
               "Latency added by Kong and enabled plugins for each service/route in Kong",
               {"service", "route", "workspace"}, kKongLatencyBuckets, &m.kong_latency) ||
       !Define(inst, SLUICE_METRIC_HISTOGRAM, "kong_upstream_latency_ms",
               "Latency added by upstream response for each service/route in Kong",
               {"service", "route", "workspace"}, kLatencyBuckets, &m.upstream_latency) ||
       !Define(inst, SLUICE_METRIC_HISTOGRAM, "kong_request_latency_ms",
               "Total latency incurred during requests for each service/route in Kong",
               {"service", "route", "workspace"}, kLatencyBuckets, &m.request_latency))) {
    return false;
  }
  if (c.bandwidth_metrics &&
      !Define(inst, SLUICE_METRIC_COUNTER, "kong_bandwidth_bytes",
              "Total bandwidth (ingress/egress) throughput in bytes",
              {"service", "route", "direction", "workspace", "consumer"}, kNone, &m.bandwidth)) {
    return false;
  }
  if (c.upstream_health_metrics &&
      !Define(inst, SLUICE_METRIC_GAUGE, "kong_upstream_target_health",
              "Health status of targets of upstream. States = healthchecks_off|healthy|"
              "unhealthy|dns_error, value is 1 when state is populated.",
              {"upstream", "target", "address", "state", "subsystem"}, kNone, &m.target_health)) {
    return false;
  }
  // Give the node-level series their values now, so a scrape shows them before any request.
  const sluice_str info[] = {Str(NodeId()), g_host->host_version};
  g_host->metric_add(m.errors, nullptr, 0, 0);
  g_host->metric_set(m.datastore, nullptr, 0, 1);  // DB-less: always reachable, as Kong says
  g_host->metric_set(m.node_info, info, 2, 1);
  return true;
}

// Counts a failed record (e.g. the host's series limit) as Kong counts library errors.
void Check(const Instance& in, sluice_status st) {
  if (st != SLUICE_OK)
    g_host->metric_add(in.metrics.errors, nullptr, 0, 1);
}

sluice_status ConfigNew(sluice_instance* inst, sluice_str json, void** out) {
  try {
    auto in = std::make_unique<Instance>();
    in->config = ParseConfig(View(json));
    if (!DefineAll(inst, in.get()))
      return SLUICE_ERR_REJECTED;
    if (in->config.upstream_health_metrics &&
        !(SLUICE_HOST_HAS(g_host, upstream_health_list) && SLUICE_HOST_HAS(g_host, timer_start) &&
          SLUICE_HOST_HAS(g_host, timer_cancel))) {
      g_host->log(nullptr, SLUICE_LOG_WARN,
                  Str("upstream_health_metrics: this host cannot list target health; "
                      "kong_upstream_target_health stays empty"));
    }
    *out = in.release();
    return SLUICE_OK;
  } catch (const sluice::ConfigError& e) {
    g_host->config_error(inst, Str(e.what()));
  } catch (const std::exception& e) {
    const std::string msg = std::string("config: ") + e.what();
    g_host->config_error(inst, Str(msg));
  }
  return SLUICE_ERR_REJECTED;
}

void ConfigDestroy(void* config) { delete static_cast<Instance*>(config); }

void OnTarget(void* user_data, const sluice_target_health* t) {
  const auto* in = static_cast<const Instance*>(user_data);
  if (t == nullptr || t->struct_size < offsetof(sluice_target_health, state) + sizeof(sluice_str)) {
    return;
  }
  // One series per state, 1 for the current one (Kong's shape), so a dashboard can sum by state.
  for (std::string_view state : kHealthStates) {
    const sluice_str labels[] = {t->upstream, t->target, t->address, Str(state), Str(kSubsystem)};
    Check(*in, g_host->metric_set(in->metrics.target_health, labels, 5,
                                  View(t->state) == state ? 1 : 0));
  }
}

void RefreshHealth(void* user_data) { g_host->upstream_health_list(&OnTarget, user_data); }

sluice_status WorkerNew(void* config, sluice_worker* worker, void** out) {
  *out = nullptr;
  auto* in = static_cast<Instance*>(config);
  if (!in->config.upstream_health_metrics || !SLUICE_HOST_HAS(g_host, upstream_health_list) ||
      !SLUICE_HOST_HAS(g_host, timer_start) || !SLUICE_HOST_HAS(g_host, timer_cancel)) {
    return SLUICE_OK;
  }
  bool expected = false;
  if (!in->health_timer_taken.compare_exchange_strong(expected, true))
    return SLUICE_OK;
  auto* state = new (std::nothrow) WorkerState{in, nullptr};
  if (state == nullptr || g_host->timer_start(worker, 0, kHealthRefreshMs, &RefreshHealth, in,
                                              &state->timer) != SLUICE_OK) {
    // Metrics are not worth failing the worker's requests for: log and let another try.
    delete state;
    in->health_timer_taken.store(false);
    g_host->log(nullptr, SLUICE_LOG_ERROR, Str("could not start the target health timer"));
    return SLUICE_OK;
  }
  *out = state;
  return SLUICE_OK;
}

void WorkerDestroy(void*, void* worker_state) {
  auto* state = static_cast<WorkerState*>(worker_state);
  if (state == nullptr)
    return;
  g_host->timer_cancel(state->timer);
  state->instance->health_timer_taken.store(false);
  delete state;
}

sluice_status Text(sluice_request* req, sluice_info id, sluice_str* out) {
  return g_host->request_info(req, id, out);
}

bool Int(sluice_request* req, sluice_info id, int64_t* out) {
  return g_host->request_info_int(req, id, out) == SLUICE_OK;
}

// Runs after every exchange, local replies included (so a 401 or 429 is counted).
void OnLog(sluice_request* req, void* config, void*) {
  const auto& in = *static_cast<const Instance*>(config);
  const Config& c = in.config;
  const Metrics& m = in.metrics;
  if (!c.status_code_metrics && !c.latency_metrics && !c.bandwidth_metrics)
    return;
  // Kong records nothing per request for a request that matched no route.
  sluice_str route{};
  if (Text(req, SLUICE_INFO_ROUTE_NAME, &route) != SLUICE_OK &&
      Text(req, SLUICE_INFO_ROUTE_ID, &route) != SLUICE_OK) {
    return;
  }
  sluice_str service{};
  if (Text(req, SLUICE_INFO_SERVICE_NAME, &service) != SLUICE_OK)
    service = {};
  sluice_str consumer{};
  if (!c.per_consumer || Text(req, SLUICE_INFO_CONSUMER_USERNAME, &consumer) != SLUICE_OK)
    consumer = {};
  const sluice_str workspace = Str(kWorkspace);
  int64_t upstream_ms = -1;
  // No upstream latency means no upstream response head: the gateway answered ("kong").
  const bool from_upstream = Int(req, SLUICE_INFO_UPSTREAM_LATENCY_MS, &upstream_ms);
  int64_t v = 0;

  if (c.status_code_metrics && Int(req, SLUICE_INFO_RESPONSE_STATUS, &v)) {
    char code[24];
    const auto r = std::to_chars(code, code + sizeof code, v);
    const sluice_str labels[] = {service,
                                 route,
                                 {code, static_cast<size_t>(r.ptr - code)},
                                 Str(from_upstream ? "service" : "kong"),
                                 workspace,
                                 consumer};
    Check(in, g_host->metric_add(m.requests, labels, 6, 1));
  }
  if (c.latency_metrics) {
    const sluice_str labels[] = {service, route, workspace};
    if (Int(req, SLUICE_INFO_REQUEST_LATENCY_MS, &v) && v >= 0)
      Check(in, g_host->metric_observe(m.request_latency, labels, 3, static_cast<double>(v)));
    if (from_upstream && upstream_ms >= 0) {
      Check(in, g_host->metric_observe(m.upstream_latency, labels, 3,
                                       static_cast<double>(upstream_ms)));
    }
    if (Int(req, SLUICE_INFO_PROXY_LATENCY_MS, &v) && v >= 0)
      Check(in, g_host->metric_observe(m.kong_latency, labels, 3, static_cast<double>(v)));
  }
  if (c.bandwidth_metrics) {
    if (Int(req, SLUICE_INFO_REQUEST_BYTES, &v) && v > 0) {
      const sluice_str labels[] = {service, route, Str("ingress"), workspace, consumer};
      Check(in, g_host->metric_add(m.bandwidth, labels, 5, static_cast<double>(v)));
    }
    if (Int(req, SLUICE_INFO_RESPONSE_BYTES, &v) && v > 0) {
      const sluice_str labels[] = {service, route, Str("egress"), workspace, consumer};
      Check(in, g_host->metric_add(m.bandwidth, labels, 5, static_cast<double>(v)));
    }
  }
}

}  // namespace

const sluice_filter_descriptor* Describe(const sluice_host_api* host) {
  g_host = host;
  static const sluice_filter_descriptor desc = [] {
    sluice_filter_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_major = SLUICE_ABI_VERSION_MAJOR;
    d.abi_minor = SLUICE_ABI_VERSION_MINOR;
    d.name = Str("prometheus");
    d.version = Str("1.0.0");
    d.priority = kPriority;
    d.on_config_new = &ConfigNew;
    d.on_config_destroy = &ConfigDestroy;
    d.on_worker_new = &WorkerNew;
    d.on_worker_destroy = &WorkerDestroy;
    d.on_log = &OnLog;
    return d;
  }();
  return &desc;
}

}  // namespace sluice::filters::prometheus

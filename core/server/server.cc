// SPDX-License-Identifier: Apache-2.0
#include "core/server/server.h"

#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <signal.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

#include "core/admin/admin_server.h"
#include "core/balancer/dns.h"
#include "core/balancer/health_checker.h"
#include "core/balancer/health_report.h"
#include "core/common/log.h"
#include "core/config/loader.h"
#include "core/config/uuid.h"
#include "core/filter_host/filter_host.h"
#include "core/filter_host/loader.h"
#include "core/net/resolver.h"
#include "core/proxy/snapshot.h"
#include "core/server/status.h"
#include "core/server/worker.h"

namespace sluice::server {
namespace {

void PrintErrors(const std::vector<config::Error>& errors) {
  for (const config::Error& e : errors)
    std::fprintf(stderr, "%s\n", e.ToString().c_str());
}

// <directory of the running binary>/filters, the default --filters-dir.
std::string DefaultFiltersDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return "filters";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/')) + "/filters";
}

// A random UUID (v4) naming this process in admin answers, as Kong's node_id.
std::string NodeId() {
  std::string h = config::RandomHex(16);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return absl::StrCat(h.substr(0, 8), "-", h.substr(8, 4), "-", h.substr(12, 4), "-",
                      h.substr(16, 4), "-", h.substr(20));
}

// The filter host and module loader of the process (main thread).
struct Filters {
  explicit Filters(const Options& options)
      : loader(options.filters_dir.empty() ? DefaultFiltersDir() : options.filters_dir,
               &host.api()) {}

  filter_host::FilterHost host;
  filter_host::Loader loader;
};

// Loads and compiles the config file; prints every error and returns nullptr when it is
// invalid. Plugin errors are already "file:line:col: message" lines.
std::shared_ptr<const proxy::Snapshot> LoadSnapshot(const std::string& path, uint64_t version,
                                                    Filters& filters,
                                                    const proxy::Snapshot* previous = nullptr) {
  config::LoadResult loaded = config::LoadFile(path);
  if (!loaded.ok()) {
    PrintErrors(loaded.errors);
    return nullptr;
  }
  auto snap = proxy::BuildSnapshot(std::move(loaded.config), version,
                                   {&filters.loader, &filters.host}, previous);
  if (!snap.ok()) {
    std::fprintf(stderr, "%s\n", std::string(snap.status().message()).c_str());
    return nullptr;
  }
  return *snap;
}

class Server {
 public:
  explicit Server(const Options& options) : options_(options), filters_(options) {
    settings_.max_body_bytes = options.client_max_body_size;
    settings_.client_header_timeout_ms = options.client_header_timeout_ms;
  }

  int Run() {
    log::Level level;
    if (!log::ParseLevel(options_.log_level, &level)) {
      std::fprintf(stderr, "--log-level: expected debug, info, warn or error\n");
      return 2;
    }
    log::SetLevel(level);
    signal(SIGPIPE, SIG_IGN);

    std::vector<net::ListenSpec> listens;
    std::vector<std::string> addrs = options_.listen;
    if (addrs.empty())
      addrs.push_back("0.0.0.0:8000");
    for (const std::string& a : addrs) {
      auto spec = net::ParseListen(a);
      if (!spec.ok()) {
        std::fprintf(stderr, "%s\n", std::string(spec.status().message()).c_str());
        return 2;
      }
      if (absl::Status st = net::CheckAvailable(spec->address); !st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        return 1;
      }
      listens.push_back(*spec);
    }
    uv_loop_init(&loop_);
    auto resolver = net::Resolver::Create(&loop_, ResolverOptions());
    if (!resolver.ok()) {
      std::fprintf(stderr, "--dns-resolver: %s\n",
                   std::string(resolver.status().message()).c_str());
      return CloseLoop(2);
    }
    resolver_ = std::move(resolver).value();
    snapshot_ = LoadSnapshot(options_.config_path, ++version_, filters_);
    if (snapshot_ == nullptr)
      return CloseLoop(1);
    // Hostname targets are looked up before any traffic; the loop runs nothing else yet.
    bool resolved = false;
    balancer::ResolveNewTargets(resolver_.get(), snapshot_->balancers, dns_policy_,
                                [&resolved](bool) { resolved = true; });
    while (!resolved)
      uv_run(&loop_, UV_RUN_ONCE);
    auto checker = balancer::HealthCheckerThread::Start({ResolverOptions(), dns_policy_});
    if (!checker.ok()) {
      std::fprintf(stderr, "%s\n", std::string(checker.status().message()).c_str());
      return CloseLoop(1);
    }
    checker_ = std::move(checker).value();
    PublishBalancers();
    filters_.host.SetHealthLister(
        [this](sluice_target_health_fn fn, void* user_data) { ListTargets(fn, user_data); });

    int log_fd = -1;
    if (options_.access_log == "-") {
      log_fd = STDERR_FILENO;
    } else if (options_.access_log != "off") {
      log_fd = ::open(options_.access_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (log_fd < 0) {
        std::fprintf(stderr, "--access-log %s: %s\n", options_.access_log.c_str(), strerror(errno));
        return CloseLoop(1);
      }
    }

    int n = options_.workers > 0
                ? options_.workers
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, settings_, log_fd));
      absl::Status st = workers_.back()->Start(listens, snapshot_);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        workers_.pop_back();
        StopWorkers();
        return CloseLoop(1);
      }
    }

    if (options_.admin_listen != "off") {
      auto spec = net::ParseListen(options_.admin_listen);
      admin_ = std::make_unique<admin::AdminServer>(
          &loop_, [this](absl::string_view method, absl::string_view path, absl::string_view) {
            return HandleAdmin(method, path);
          });
      absl::Status st = spec.ok() ? admin_->Listen(spec->address) : spec.status();
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
        admin_.reset();
        StopWorkers();
        return CloseLoop(1);
      }
    }
    for (int signum : {SIGTERM, SIGINT, SIGHUP}) {
      auto* sig = new uv_signal_t;
      uv_signal_init(&loop_, sig);
      sig->data = this;
      uv_signal_start(
          sig, [](uv_signal_t* s, int num) { static_cast<Server*>(s->data)->OnSignal(num); },
          signum);
      signals_.push_back(sig);
    }
    uv_timer_init(&loop_, &retire_timer_);
    retire_timer_.data = this;
    uv_timer_start(
        &retire_timer_, [](uv_timer_t* t) { static_cast<Server*>(t->data)->FreeRetired(); }, 1000,
        1000);
    log::Info("sluice %s: %d workers, proxy on %s, admin on %s", SLUICE_VERSION, n, addrs.front(),
              options_.admin_listen);
    uv_run(&loop_, UV_RUN_DEFAULT);
    StopWorkers();
    checker_.reset();  // after the workers: their last reports are in
    filters_.host.SetHealthLister(nullptr);
    retired_.clear();  // the workers are gone: the main thread holds the last references
    CloseLoop(0);
    if (log_fd > STDERR_FILENO)
      ::close(log_fd);
    log::Info("stopped");
    return 0;
  }

 private:
  void OnSignal(int signum) {
    if (signum == SIGHUP) {
      Reload();
      return;
    }
    log::Info("signal %d: draining", signum);
    draining_ = true;
    resolver_.reset();  // a reload still waiting for DNS is dropped
    for (auto& w : workers_)
      w->Drain();
    // The workers finish in-flight requests on their own; the main loop just stops.
    for (uv_signal_t* s : signals_) {
      uv_close(reinterpret_cast<uv_handle_t*>(s),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_signal_t*>(h); });
    }
    signals_.clear();
    admin_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&retire_timer_), nullptr);
  }

  // A replaced snapshot is freed here, on the main thread, once no worker uses it: its
  // filters' on_config_destroy must run on the main thread.
  void FreeRetired() {
    std::erase_if(retired_, [](const auto& snap) { return snap.use_count() == 1; });
  }

  // A new config goes live once its new hostname targets have answered (or failed), so no
  // request meets an unresolved target; the admin loop keeps serving meanwhile.
  void Reload() {
    if (resolver_ == nullptr)
      return;  // draining
    auto snap = LoadSnapshot(options_.config_path, version_ + 1, filters_, snapshot_.get());
    if (snap == nullptr) {
      log::Error("reload of %s failed; the running config stays", options_.config_path);
      return;
    }
    const uint64_t attempt = ++reload_attempt_;
    balancer::ResolveNewTargets(resolver_.get(), snap->balancers, dns_policy_,
                                [this, snap, attempt](bool live) mutable {
                                  // A later SIGHUP or a shutdown overtook this one.
                                  if (live && attempt == reload_attempt_ && !draining_)
                                    Publish(std::move(snap));
                                });
  }

  void Publish(std::shared_ptr<const proxy::Snapshot> snap) {
    ++version_;
    retired_.push_back(std::move(snapshot_));
    snapshot_ = snap;
    for (auto& w : workers_)
      w->Publish(snap);
    PublishBalancers();
    log::Info("config version %d loaded from %s", version_, options_.config_path);
  }

  net::ResolverOptions ResolverOptions() const {
    net::ResolverOptions o;
    o.servers = options_.dns_resolver;
    return o;
  }

  // Closes every handle left on the main loop, then the loop; returns `rc`.
  int CloseLoop(int rc) {
    resolver_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return rc;
  }

  // Hands the current balancers to the health checker and to upstream_health_list readers.
  void PublishBalancers() {
    checker_->Update(snapshot_->balancers);
    absl::MutexLock lock(&balancers_mu_);
    balancers_ = snapshot_->balancers;
  }

  // upstream_health_list for filters: any thread.
  void ListTargets(sluice_target_health_fn fn, void* user_data) {
    std::shared_ptr<const balancer::Set> set;
    {
      absl::MutexLock lock(&balancers_mu_);
      set = balancers_;
    }
    if (set == nullptr)
      return;
    auto str = [](const std::string& v) { return sluice_str{v.data(), v.size()}; };
    for (size_t u = 0; u < set->size(); ++u) {
      const balancer::Upstream& up = set->at(u);
      if (up.implicit())
        continue;  // a service host, not an `upstreams` entry
      for (const balancer::TargetReport& r : balancer::ReportHealth(up)) {
        // Kong's prometheus labels use the lower-case words.
        const std::string state = absl::AsciiStrToLower(balancer::HealthName(r.health));
        sluice_target_health t{};
        t.struct_size = sizeof t;
        t.upstream = str(up.name());
        t.target = str(r.target);
        t.address = str(r.address);
        t.state = str(state);
        fn(user_data, &t);
      }
    }
  }

  void StopWorkers() {
    for (auto& w : workers_)
      w->Drain();
    for (auto& w : workers_)
      w->Join();
    workers_.clear();
  }

  admin::Response HandleAdmin(absl::string_view method, absl::string_view path) {
    if (method != "GET") {
      return {405, "application/json", R"({"message":"Method not allowed"})"};
    }
    std::vector<const WorkerStats*> stats;
    for (auto& w : workers_)
      stats.push_back(&w->stats());
    if (path == "/status") {
      return {200, "application/json", StatusJson(stats, version_, snapshot_->config)};
    }
    if (path == "/metrics") {
      std::string text = MetricsText(stats, version_);
      balancer::AppendMetrics(*snapshot_->balancers, &text);
      return {200, "text/plain; version=0.0.4", text + filters_.host.metrics().Render()};
    }
    // GET /upstreams/{name}/health (Kong's admin route, with sluice's breaker and reasons).
    if (absl::ConsumePrefix(&path, "/upstreams/") && absl::ConsumeSuffix(&path, "/health")) {
      const balancer::Upstream* up = snapshot_->balancers->Find(path);
      if (up == nullptr)
        return {404, "application/json", R"({"message":"Not found"})"};
      nlohmann::json body = balancer::HealthJson(*up);
      body["node_id"] = node_id_;
      return {200, "application/json", body.dump()};
    }
    return {404, "application/json", R"({"message":"Not found"})"};
  }

  const Options& options_;
  Filters filters_;
  proxy::Settings settings_;
  uv_loop_t loop_;
  uint64_t version_ = 0;
  std::shared_ptr<const proxy::Snapshot> snapshot_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::vector<uv_signal_t*> signals_;
  uv_timer_t retire_timer_;
  std::vector<std::shared_ptr<const proxy::Snapshot>> retired_;
  std::unique_ptr<balancer::HealthCheckerThread> checker_;
  std::unique_ptr<net::Resolver> resolver_;  // main loop: first lookups of new targets
  balancer::DnsPolicy dns_policy_;
  uint64_t reload_attempt_ = 0;
  bool draining_ = false;
  absl::Mutex balancers_mu_;
  std::shared_ptr<const balancer::Set> balancers_ ABSL_GUARDED_BY(balancers_mu_);
  std::string node_id_ = NodeId();
};

}  // namespace

int Run(const Options& options) { return Server(options).Run(); }

int Validate(const Options& options) {
  log::SetLevel(log::Level::kWarn);  // validate prints problems only, not "loaded filter" lines
  config::LoadResult loaded = config::LoadFile(options.config_path);
  if (!loaded.ok()) {
    PrintErrors(loaded.errors);
    return 1;
  }
  Filters filters(options);
  auto snap = proxy::BuildSnapshot(std::move(loaded.config), 1, {&filters.loader, &filters.host});
  if (!snap.ok()) {
    std::fprintf(stderr, "%s\n", std::string(snap.status().message()).c_str());
    return 1;
  }
  std::printf("%s: ok\n", options.config_path.c_str());
  return 0;
}

}  // namespace sluice::server

// SPDX-License-Identifier: Apache-2.0
// prometheus hooks against a fake host whose metric callbacks go to the real host metric store
// (core/filter_host/metrics.h), so the assertions read the exposition the admin API serves.
#include "handler.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <re2/re2.h>

#include "core/filter_host/metrics.h"

namespace sluice::filters::prometheus {
namespace {

using filter_host::Metric;

sluice_str S(std::string_view s) { return {s.data(), s.size()}; }

std::string_view V(sluice_str s) { return s.len == 0 ? "" : std::string_view(s.data, s.len); }

// What the fake host knows about one request (passed as the sluice_request* handle).
struct FakeRequest {
  std::map<sluice_info, std::string> text;
  std::map<sluice_info, int64_t> ints;
};

struct FakeTarget {
  std::string upstream, target, address, state;
};

struct FakeTimer {
  sluice_worker* worker = nullptr;
  uint64_t delay_ms = 0;
  uint64_t repeat_ms = 0;
  sluice_timer_fn fn = nullptr;
  void* user_data = nullptr;
  bool cancelled = false;
};

// The fake host's state; reset by each test through Fixture.
struct World {
  filter_host::Metrics metrics;
  std::vector<std::string> config_errors;
  std::vector<FakeTarget> targets;
  std::vector<std::unique_ptr<FakeTimer>> timers;
};

World* g_world = nullptr;

sluice_host_api MakeHost() {
  sluice_host_api h{};
  h.struct_size = sizeof h;
  h.abi_major = SLUICE_ABI_VERSION_MAJOR;
  h.abi_minor = SLUICE_ABI_VERSION_MINOR;
  h.host_version = S("9.9.9");
  h.config_error = [](sluice_instance*, sluice_str m) -> sluice_status {
    g_world->config_errors.emplace_back(V(m));
    return SLUICE_OK;
  };
  h.metric_define = [](sluice_instance*, const sluice_metric_desc* d,
                       sluice_metric** out) -> sluice_status {
    absl::StatusOr<Metric*> m = g_world->metrics.Define(*d);
    if (!m.ok())
      return SLUICE_ERR_INVALID;
    *out = reinterpret_cast<sluice_metric*>(*m);
    return SLUICE_OK;
  };
  h.log_enabled = [](sluice_log_level) { return false; };
  h.log = [](sluice_request*, sluice_log_level, sluice_str) -> sluice_status { return SLUICE_OK; };
  h.request_info = [](sluice_request* r, sluice_info id, sluice_str* out) -> sluice_status {
    const auto& text = reinterpret_cast<FakeRequest*>(r)->text;
    auto it = text.find(id);
    if (it == text.end())
      return SLUICE_ERR_NOT_FOUND;
    *out = S(it->second);
    return SLUICE_OK;
  };
  h.request_info_int = [](sluice_request* r, sluice_info id, int64_t* out) -> sluice_status {
    const auto& ints = reinterpret_cast<FakeRequest*>(r)->ints;
    auto it = ints.find(id);
    if (it == ints.end())
      return SLUICE_ERR_NOT_FOUND;
    *out = it->second;
    return SLUICE_OK;
  };
  h.metric_add = [](sluice_metric* m, const sluice_str* l, size_t n, double v) -> sluice_status {
    return reinterpret_cast<Metric*>(m)->Add(l, n, v);
  };
  h.metric_set = [](sluice_metric* m, const sluice_str* l, size_t n, double v) -> sluice_status {
    return reinterpret_cast<Metric*>(m)->Set(l, n, v);
  };
  h.metric_observe = [](sluice_metric* m, const sluice_str* l, size_t n,
                        double v) -> sluice_status {
    return reinterpret_cast<Metric*>(m)->Observe(l, n, v);
  };
  h.timer_start = [](sluice_worker* w, uint64_t delay, uint64_t repeat, sluice_timer_fn fn,
                     void* data, sluice_timer** out) -> sluice_status {
    g_world->timers.push_back(std::make_unique<FakeTimer>(FakeTimer{w, delay, repeat, fn, data}));
    *out = reinterpret_cast<sluice_timer*>(g_world->timers.back().get());
    return SLUICE_OK;
  };
  h.timer_cancel = [](sluice_timer* t) -> sluice_status {
    reinterpret_cast<FakeTimer*>(t)->cancelled = true;
    return SLUICE_OK;
  };
  h.upstream_health_list = [](sluice_target_health_fn fn, void* data) -> sluice_status {
    for (const FakeTarget& t : g_world->targets) {
      sluice_target_health th{};
      th.struct_size = sizeof th;
      th.upstream = S(t.upstream);
      th.target = S(t.target);
      th.address = S(t.address);
      th.state = S(t.state);
      fn(data, &th);
    }
    return SLUICE_OK;
  };
  return h;
}

const sluice_host_api kHost = MakeHost();

// One test's world plus one configured instance of the filter.
struct Fixture {
  explicit Fixture(std::string_view config_json) {
    g_world = &world;
    desc = Describe(&kHost);
    status = desc->on_config_new(nullptr, S(config_json), &config);
  }

  ~Fixture() {
    if (status == SLUICE_OK)
      desc->on_config_destroy(config);
    g_world = nullptr;
  }

  void Log(FakeRequest& r) { desc->on_log(reinterpret_cast<sluice_request*>(&r), config, nullptr); }

  // The value of one sample line, or "" when absent.
  std::string Sample(const std::string& series) {
    std::istringstream in(world.metrics.Render());
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(series + " ", 0) == 0)
        return line.substr(series.size() + 1);
    }
    return "";
  }

  World world;
  const sluice_filter_descriptor* desc = nullptr;
  void* config = nullptr;
  sluice_status status = SLUICE_ERR_INTERNAL;
};

// A proxied request: route "r1" of service "svc", answered by the upstream.
FakeRequest Proxied(int status) {
  FakeRequest r;
  r.text = {{SLUICE_INFO_ROUTE_ID, "route-id-1"},
            {SLUICE_INFO_ROUTE_NAME, "r1"},
            {SLUICE_INFO_SERVICE_ID, "svc-id"},
            {SLUICE_INFO_SERVICE_NAME, "svc"}};
  r.ints = {{SLUICE_INFO_RESPONSE_STATUS, status}, {SLUICE_INFO_UPSTREAM_LATENCY_MS, 60},
            {SLUICE_INFO_PROXY_LATENCY_MS, 3},     {SLUICE_INFO_REQUEST_LATENCY_MS, 63},
            {SLUICE_INFO_REQUEST_BYTES, 100},      {SLUICE_INFO_RESPONSE_BYTES, 250}};
  return r;
}

// The same route answered by the gateway itself (no upstream response head).
FakeRequest LocalReply(int status) {
  FakeRequest r = Proxied(status);
  r.ints.erase(SLUICE_INFO_UPSTREAM_LATENCY_MS);
  r.ints[SLUICE_INFO_PROXY_LATENCY_MS] = 0;
  r.ints[SLUICE_INFO_REQUEST_LATENCY_MS] = 0;
  return r;
}

constexpr const char* kSvc = R"(service="svc",route="r1",)";

TEST_CASE("prometheus handler: the descriptor is Kong's prometheus", "[filters][prometheus]") {
  const sluice_filter_descriptor* d = Describe(&kHost);
  CHECK(V(d->name) == "prometheus");
  CHECK(d->priority == 13);
  CHECK(d->capabilities == 0);
  CHECK(d->on_request_new == nullptr);  // no per-request state: on_log reads everything
  CHECK(d->on_log != nullptr);
}

TEST_CASE("prometheus handler: an empty config exports node-level metrics only",
          "[filters][prometheus]") {
  Fixture f("{}");
  REQUIRE(f.status == SLUICE_OK);
  FakeRequest r = Proxied(200);
  f.Log(r);
  const std::string text = f.world.metrics.Render();
  INFO(text);
  CHECK(f.Sample("kong_datastore_reachable") == "1");
  CHECK(f.Sample("kong_nginx_metric_errors_total") == "0");
  CHECK(RE2::PartialMatch(text,
                          R"re(\nkong_node_info\{node_id="[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-)re"
                          R"re([89ab][0-9a-f]{3}-[0-9a-f]{12}",version="9\.9\.9"\} 1\n)re"));
  CHECK(text.find("kong_http_requests_total") == std::string::npos);
  CHECK(text.find("latency") == std::string::npos);
  CHECK(text.find("kong_bandwidth_bytes") == std::string::npos);
}

TEST_CASE("prometheus handler: kong_http_requests_total labels", "[filters][prometheus]") {
  SECTION("service and kong sources, one series per code") {
    Fixture f(R"({"status_code_metrics": true})");
    REQUIRE(f.status == SLUICE_OK);
    FakeRequest ok = Proxied(200), denied = LocalReply(401), limited = LocalReply(429);
    f.Log(ok);
    f.Log(ok);
    f.Log(denied);
    f.Log(limited);
    const std::string p = std::string("kong_http_requests_total{") + kSvc;
    CHECK(f.Sample(p + R"(code="200",source="service",workspace="default",consumer=""})") == "2");
    CHECK(f.Sample(p + R"(code="401",source="kong",workspace="default",consumer=""})") == "1");
    CHECK(f.Sample(p + R"(code="429",source="kong",workspace="default",consumer=""})") == "1");
  }
  SECTION("the route id without a name, an empty service without a name") {
    Fixture f(R"({"status_code_metrics": true})");
    FakeRequest r = Proxied(204);
    r.text.erase(SLUICE_INFO_ROUTE_NAME);
    r.text.erase(SLUICE_INFO_SERVICE_NAME);
    f.Log(r);
    CHECK(f.Sample(R"(kong_http_requests_total{service="",route="route-id-1",code="204",)"
                   R"(source="service",workspace="default",consumer=""})") == "1");
  }
  SECTION("no route: nothing per request") {
    Fixture f(R"({"status_code_metrics": true, "latency_metrics": true})");
    FakeRequest r = LocalReply(404);
    r.text.clear();
    f.Log(r);
    CHECK(f.world.metrics.Render().find("{service=") == std::string::npos);
  }
  SECTION("the consumer's username only with per_consumer") {
    FakeRequest r = Proxied(200);
    r.text[SLUICE_INFO_CONSUMER_USERNAME] = "alice";
    r.text[SLUICE_INFO_CONSUMER_ID] = "c-1";
    SECTION("on") {
      Fixture f(R"({"status_code_metrics": true, "per_consumer": true})");
      f.Log(r);
      CHECK(f.Sample(std::string("kong_http_requests_total{") + kSvc +
                     R"(code="200",source="service",workspace="default",consumer="alice"})") ==
            "1");
    }
    SECTION("off") {
      Fixture f(R"({"status_code_metrics": true})");
      f.Log(r);
      CHECK(f.Sample(std::string("kong_http_requests_total{") + kSvc +
                     R"(code="200",source="service",workspace="default",consumer=""})") == "1");
    }
  }
}

TEST_CASE("prometheus handler: latency histograms use Kong's buckets", "[filters][prometheus]") {
  Fixture f(R"({"latency_metrics": true})");
  REQUIRE(f.status == SLUICE_OK);
  FakeRequest proxied = Proxied(200), local = LocalReply(401);
  f.Log(proxied);
  f.Log(local);
  const std::string l = std::string("{") + kSvc + R"(workspace="default",le=")";
  const std::string s = std::string("{") + kSvc + R"(workspace="default"})";
  // request latency: 63 and 0.
  CHECK(f.Sample("kong_request_latency_ms_bucket" + l + "25\"}") == "1");
  CHECK(f.Sample("kong_request_latency_ms_bucket" + l + "50\"}") == "1");
  CHECK(f.Sample("kong_request_latency_ms_bucket" + l + "80\"}") == "2");
  CHECK(f.Sample("kong_request_latency_ms_bucket" + l + "60000\"}") == "2");
  CHECK(f.Sample("kong_request_latency_ms_count" + s) == "2");
  CHECK(f.Sample("kong_request_latency_ms_sum" + s) == "63");
  // upstream latency: only the proxied request has one.
  CHECK(f.Sample("kong_upstream_latency_ms_bucket" + l + "50\"}") == "0");
  CHECK(f.Sample("kong_upstream_latency_ms_bucket" + l + "80\"}") == "1");
  CHECK(f.Sample("kong_upstream_latency_ms_count" + s) == "1");
  CHECK(f.Sample("kong_upstream_latency_ms_sum" + s) == "60");
  // kong latency: 3 and 0, in Kong's finer buckets up to 6000.
  CHECK(f.Sample("kong_kong_latency_ms_bucket" + l + "1\"}") == "1");
  CHECK(f.Sample("kong_kong_latency_ms_bucket" + l + "2\"}") == "1");
  CHECK(f.Sample("kong_kong_latency_ms_bucket" + l + "5\"}") == "2");
  CHECK(f.Sample("kong_kong_latency_ms_bucket" + l + "6000\"}") == "2");
  CHECK(f.Sample("kong_kong_latency_ms_bucket" + l + "+Inf\"}") == "2");
  CHECK(f.Sample("kong_kong_latency_ms_count" + s) == "2");
  CHECK(f.world.metrics.Render().find("kong_http_requests_total") == std::string::npos);
}

TEST_CASE("prometheus handler: kong_bandwidth_bytes by direction", "[filters][prometheus]") {
  Fixture f(R"({"bandwidth_metrics": true, "per_consumer": true})");
  REQUIRE(f.status == SLUICE_OK);
  FakeRequest a = Proxied(200), b = Proxied(200);
  b.text[SLUICE_INFO_CONSUMER_USERNAME] = "bob";
  b.ints[SLUICE_INFO_REQUEST_BYTES] = 0;  // nothing received: no ingress sample (Kong's > 0)
  f.Log(a);
  f.Log(a);
  f.Log(b);
  const std::string p = std::string("kong_bandwidth_bytes{") + kSvc;
  CHECK(f.Sample(p + R"(direction="ingress",workspace="default",consumer=""})") == "200");
  CHECK(f.Sample(p + R"(direction="egress",workspace="default",consumer=""})") == "500");
  CHECK(f.Sample(p + R"(direction="ingress",workspace="default",consumer="bob"})").empty());
  CHECK(f.Sample(p + R"(direction="egress",workspace="default",consumer="bob"})") == "250");
}

TEST_CASE("prometheus handler: target health from one worker's timer", "[filters][prometheus]") {
  Fixture f(R"({"upstream_health_metrics": true})");
  REQUIRE(f.status == SLUICE_OK);
  f.world.targets = {{"u1", "10.0.0.1:80", "10.0.0.1:80", "healthy"},
                     {"u1", "bad.example:80", "", "dns_error"}};
  auto* w0 = reinterpret_cast<sluice_worker*>(0x10);
  auto* w1 = reinterpret_cast<sluice_worker*>(0x20);
  void* s0 = nullptr;
  void* s1 = nullptr;
  REQUIRE(f.desc->on_worker_new(f.config, w0, &s0) == SLUICE_OK);
  REQUIRE(f.desc->on_worker_new(f.config, w1, &s1) == SLUICE_OK);
  REQUIRE(f.world.timers.size() == 1);  // the second worker leaves it to the first
  FakeTimer& timer = *f.world.timers[0];
  CHECK(timer.worker == w0);
  CHECK(timer.delay_ms == 0);
  CHECK(timer.repeat_ms == kHealthRefreshMs);
  timer.fn(timer.user_data);
  const std::string t1 = R"(kong_upstream_target_health{upstream="u1",target="10.0.0.1:80",)"
                         R"(address="10.0.0.1:80",state=")";
  CHECK(f.Sample(t1 + R"(healthy",subsystem="http"})") == "1");
  CHECK(f.Sample(t1 + R"(unhealthy",subsystem="http"})") == "0");
  CHECK(f.Sample(t1 + R"(dns_error",subsystem="http"})") == "0");
  CHECK(f.Sample(t1 + R"(healthchecks_off",subsystem="http"})") == "0");
  const std::string t2 =
      R"(kong_upstream_target_health{upstream="u1",target="bad.example:80",address="",state=")";
  CHECK(f.Sample(t2 + R"(dns_error",subsystem="http"})") == "1");
  CHECK(f.Sample(t2 + R"(healthy",subsystem="http"})") == "0");

  f.world.targets[0].state = "unhealthy";
  timer.fn(timer.user_data);
  CHECK(f.Sample(t1 + R"(healthy",subsystem="http"})") == "0");
  CHECK(f.Sample(t1 + R"(unhealthy",subsystem="http"})") == "1");

  // The timer's worker leaves: its timer stops and the next worker to start takes over.
  f.desc->on_worker_destroy(f.config, s0);
  CHECK(timer.cancelled);
  f.desc->on_worker_destroy(f.config, s1);
  void* s2 = nullptr;
  REQUIRE(f.desc->on_worker_new(f.config, w1, &s2) == SLUICE_OK);
  CHECK(f.world.timers.size() == 2);
  f.desc->on_worker_destroy(f.config, s2);
}

TEST_CASE("prometheus handler: no health timer unless asked", "[filters][prometheus]") {
  Fixture f(R"({"status_code_metrics": true})");
  void* s = nullptr;
  REQUIRE(f.desc->on_worker_new(f.config, reinterpret_cast<sluice_worker*>(0x10), &s) == SLUICE_OK);
  CHECK(s == nullptr);
  CHECK(f.world.timers.empty());
  CHECK(f.world.metrics.Render().find("kong_upstream_target_health") == std::string::npos);
}

TEST_CASE("prometheus handler: a bad config is refused with the field path",
          "[filters][prometheus]") {
  Fixture f(R"({"latency_metrics": "yes"})");
  CHECK(f.status == SLUICE_ERR_REJECTED);
  CHECK(f.world.config_errors == std::vector<std::string>{"config.latency_metrics: expected a "
                                                          "boolean"});
}

TEST_CASE("prometheus handler: a record past the series limit counts as an error",
          "[filters][prometheus]") {
  Fixture f(R"({"status_code_metrics": true})");
  REQUIRE(f.status == SLUICE_OK);
  for (size_t i = 0; i < Metric::kMaxSeries; ++i) {
    FakeRequest r = Proxied(200);
    r.text[SLUICE_INFO_ROUTE_NAME] = "r" + std::to_string(i);
    f.Log(r);
  }
  CHECK(f.Sample("kong_nginx_metric_errors_total") == "0");
  FakeRequest extra = Proxied(200);
  extra.text[SLUICE_INFO_ROUTE_NAME] = "one-too-many";
  f.Log(extra);
  CHECK(f.Sample("kong_nginx_metric_errors_total") == "1");
}

// promtool's verdict on the exposition: Kong's own names break two lint rules (kong_*_ms has
// an abbreviated unit, kong_bandwidth_bytes is a counter without _total), so exit 3 with exactly
// those problems is the best a Kong-compatible exposition can do; a format error would be exit 1.
TEST_CASE("prometheus handler: the exposition parses in promtool", "[filters][prometheus]") {
  Fixture f(R"({"status_code_metrics": true, "latency_metrics": true,
                "bandwidth_metrics": true, "upstream_health_metrics": true,
                "per_consumer": true})");
  REQUIRE(f.status == SLUICE_OK);
  FakeRequest a = Proxied(200), b = LocalReply(401);
  b.text[SLUICE_INFO_CONSUMER_USERNAME] = "we\"ird\\name";
  f.Log(a);
  f.Log(b);
  char path[] = "/tmp/sluice-prometheus-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string text = f.world.metrics.Render();
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string out = std::string(path) + ".out";
  const int status = std::system(
      ("promtool check metrics < " + std::string(path) + " > " + out + " 2>&1").c_str());
  std::ifstream in(out);
  const std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(path);
  unlink(out.c_str());
  INFO(text);
  INFO(report);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);
  CHECK(report ==
        "kong_bandwidth_bytes counter metrics should have \"_total\" suffix\n"
        "kong_kong_latency_ms metric names should not contain abbreviated units\n"
        "kong_request_latency_ms metric names should not contain abbreviated units\n"
        "kong_upstream_latency_ms metric names should not contain abbreviated units\n");
}

}  // namespace
}  // namespace sluice::filters::prometheus

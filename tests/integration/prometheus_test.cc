// SPDX-License-Identifier: Apache-2.0
// The prometheus filter through the real gateway: requests of several statuses (from the
// upstream, from another filter's local reply, from the gateway itself), then admin /metrics
// must show Kong's series with exact values, and promtool must parse the whole exposition.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

// A filters dir holding prometheus.so and the test fixture good.so (which answers with the
// status in its config), so a route can get a local reply from another filter.
struct FiltersDir {
  FiltersDir() {
    std::filesystem::create_symlink(std::string(SLUICE_FILTERS_BUILD_DIR) + "/prometheus.so",
                                    dir.Path("prometheus.so"));
    std::filesystem::create_symlink(std::string(SLUICE_FIXTURES_DIR) + "/good.so",
                                    dir.Path("good.so"));
  }

  SluiceOptions Options(int workers = 2) const {
    SluiceOptions o;
    o.workers = workers;
    o.extra_args = {"--filters-dir", dir.path()};
    return o;
  }

  TempDir dir;
};

// One exchange on its own connection (Connection: close), with the exact bytes each way.
struct Exchange {
  int status = 0;
  size_t sent = 0;
  size_t received = 0;
};

Exchange Send(int port, std::string_view target) {
  const std::string request = Request("GET", target, "localhost", "Connection: close\r\n");
  RawConn conn(port);
  Exchange e;
  if (!conn.Send(request))
    return e;
  e.sent = request.size();
  const std::string raw = conn.ReadUntilClose();
  e.received = raw.size();
  if (raw.rfind("HTTP/1.1 ", 0) == 0 && raw.size() >= 12)
    e.status = std::stoi(raw.substr(9, 3));
  return e;
}

std::string Metrics(int admin_port) {
  RawConn conn(admin_port);
  if (!conn.Send(Request("GET", "/metrics")))
    return "";
  return conn.ReadResponse().body;
}

// The value of the sample line `series`, or "" when absent.
std::string Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0)
      return line.substr(series.size() + 1);
  }
  return "";
}

bool Eventually(Millis limit, const std::function<bool()>& done) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(Millis(50));
  }
  return true;
}

struct Promtool {
  int exit_code = -1;
  std::string report;
};

Promtool CheckMetrics(const TempDir& dir, const std::string& text) {
  const std::string in = dir.WriteFile("metrics.txt", text);
  const std::string out = dir.Path("promtool.txt");
  const int status =
      std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  Promtool r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(out);
  r.report.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return r;
}

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: echo-svc
    url: ${ECHO}
    routes:
      - name: api
        paths: ["/api"]
      - name: limited
        paths: ["/limited"]
        plugins:
          - name: good
            config:
              reply: 429
  - name: down-svc
    url: http://127.0.0.1:${CLOSED}
    routes:
      - name: down
        paths: ["/down"]
plugins:
  - name: prometheus
    config:
      status_code_metrics: true
      latency_metrics: true
      bandwidth_metrics: true
)";

TEST_CASE("prometheus: counts, latencies and bytes per route on admin /metrics",
          "[integration][prometheus]") {
  EchoServer echo;
  ClosedPort closed;
  FiltersDir filters;
  Sluice gw(Substitute(kConfig, {{"ECHO", echo.url()}, {"CLOSED", std::to_string(closed.port())}}),
            filters.Options());

  // api: 3 x 200 and 2 x 418 from the upstream; limited: a 429 from the good filter; down: a
  // 502 from the gateway; /nowhere: a 404 that matched no route (never counted, as in Kong).
  struct Expect {
    std::string target;
    int status;
  };

  const std::vector<Expect> plan = {
      {"/api/a", 200},  {"/api/status/418", 418}, {"/api/bytes/1000", 200}, {"/limited/x", 429},
      {"/down/x", 502}, {"/api/status/418", 418}, {"/nowhere", 404},        {"/api/b", 200}};
  size_t api_in = 0, api_out = 0, limited_in = 0, limited_out = 0, down_in = 0, down_out = 0;
  for (const Expect& e : plan) {
    const Exchange x = Send(gw.port(), e.target);
    INFO(e.target);
    REQUIRE(x.status == e.status);
    if (e.target.rfind("/api/", 0) == 0) {
      api_in += x.sent;
      api_out += x.received;
    } else if (e.target.rfind("/limited/", 0) == 0) {
      limited_in += x.sent;
      limited_out += x.received;
    } else if (e.target.rfind("/down/", 0) == 0) {
      down_in += x.sent;
      down_out += x.received;
    }
  }

  const std::string req = "kong_http_requests_total{";
  const std::string api = R"(service="echo-svc",route="api",)";
  const std::string limited = R"(service="echo-svc",route="limited",)";
  const std::string down = R"(service="down-svc",route="down",)";
  const std::string tail = R"(workspace="default",consumer=""})";
  // on_log runs as each exchange ends, just after its last byte: wait for the last one.
  std::string text;
  const bool counted = Eventually(Millis(5000), [&] {
    text = Metrics(gw.admin_port());
    return Sample(text, req + api + R"(code="200",source="service",)" + tail) == "3" &&
           Sample(text, req + api + R"(code="418",source="service",)" + tail) == "2" &&
           Sample(text, req + limited + R"(code="429",source="kong",)" + tail) == "1" &&
           Sample(text, req + down + R"(code="502",source="kong",)" + tail) == "1";
  });
  INFO(text);
  REQUIRE(counted);
  CHECK(text.find(R"(code="404")") == std::string::npos);
  CHECK(text.find("/nowhere") == std::string::npos);

  // Latency histograms: one sample per exchange; no upstream sample without an upstream.
  const std::string wl = R"(workspace="default"})";
  CHECK(Sample(text, "kong_request_latency_ms_count{" + api + wl) == "5");
  CHECK(Sample(text, "kong_kong_latency_ms_count{" + api + wl) == "5");
  CHECK(Sample(text, "kong_upstream_latency_ms_count{" + api + wl) == "5");
  CHECK(Sample(text, "kong_request_latency_ms_count{" + limited + wl) == "1");
  CHECK(Sample(text, "kong_kong_latency_ms_count{" + limited + wl) == "1");
  CHECK(Sample(text, "kong_upstream_latency_ms_count{" + limited + wl).empty());
  CHECK(Sample(text, "kong_upstream_latency_ms_count{" + down + wl).empty());
  // Buckets are cumulative and end in the count (no timing assumption: only the shape).
  for (const std::string name : {"kong_request_latency_ms", "kong_upstream_latency_ms"}) {
    long long previous = 0;
    for (const char* le : {"25", "50", "80", "100", "250", "400", "700", "1000", "2000", "5000",
                           "10000", "30000", "60000", "+Inf"}) {
      const std::string v =
          Sample(text, name + "_bucket{" + api + R"(workspace="default",le=")" + le + R"("})");
      INFO(name << " le=" << le);
      REQUIRE_FALSE(v.empty());
      CHECK(std::stoll(v) >= previous);
      previous = std::stoll(v);
    }
    CHECK(previous == 5);
  }

  // Bandwidth: exactly the bytes on the client connections.
  const std::string bw = "kong_bandwidth_bytes{";
  CHECK(Sample(text, bw + api + R"(direction="ingress",)" + tail) == std::to_string(api_in));
  CHECK(Sample(text, bw + api + R"(direction="egress",)" + tail) == std::to_string(api_out));
  CHECK(Sample(text, bw + limited + R"(direction="ingress",)" + tail) ==
        std::to_string(limited_in));
  CHECK(Sample(text, bw + limited + R"(direction="egress",)" + tail) ==
        std::to_string(limited_out));
  CHECK(Sample(text, bw + down + R"(direction="egress",)" + tail) == std::to_string(down_out));
  CHECK(Sample(text, bw + down + R"(direction="ingress",)" + tail) == std::to_string(down_in));

  // Node-level series.
  CHECK(Sample(text, "kong_datastore_reachable") == "1");
  CHECK(Sample(text, "kong_nginx_metric_errors_total") == "0");
  CHECK(text.find("\nkong_node_info{node_id=\"") != std::string::npos);

  // The whole exposition (the gateway's own sluice_* series too) parses; the only lint
  // problems are the ones Kong's own metric names carry.
  const Promtool check = CheckMetrics(filters.dir, text);
  INFO(check.report);
  CHECK(check.exit_code == 3);
  CHECK(check.report ==
        "kong_bandwidth_bytes counter metrics should have \"_total\" suffix\n"
        "kong_kong_latency_ms metric names should not contain abbreviated units\n"
        "kong_request_latency_ms metric names should not contain abbreviated units\n"
        "kong_upstream_latency_ms metric names should not contain abbreviated units\n");
}

TEST_CASE("prometheus: an empty config exports node-level metrics only",
          "[integration][prometheus]") {
  EchoServer echo;
  FiltersDir filters;
  Sluice gw(Substitute(R"(_format_version: "3.0"
services:
  - name: echo-svc
    url: ${ECHO}
    routes:
      - name: api
        paths: ["/api"]
        plugins:
          - name: prometheus
)",
                       {{"ECHO", echo.url()}}),
            filters.Options(1));
  REQUIRE(Send(gw.port(), "/api/a").status == 200);
  std::string text;
  // No per-request series will appear, so wait on the gateway's own request counter instead.
  Eventually(Millis(5000), [&] {
    text = Metrics(gw.admin_port());
    return Sample(text, R"(sluice_requests_total{status_class="2xx"})") == "1";
  });
  INFO(text);
  CHECK(Sample(text, "kong_datastore_reachable") == "1");
  CHECK(text.find("kong_http_requests_total") == std::string::npos);
  CHECK(text.find("kong_request_latency_ms") == std::string::npos);
  CHECK(text.find("kong_bandwidth_bytes") == std::string::npos);
  const Promtool check = CheckMetrics(filters.dir, text);
  INFO(check.report);
  CHECK(check.exit_code == 0);
}

TEST_CASE("prometheus: upstream target health gauges", "[integration][prometheus]") {
  EchoServer echo;
  FiltersDir filters;
  const std::string target = "127.0.0.1:" + std::to_string(echo.port());
  Sluice gw(Substitute(R"(_format_version: "3.0"
upstreams:
  - name: pool
    targets:
      - target: ${TARGET}
services:
  - name: pooled
    host: pool
    routes:
      - name: api
        paths: ["/api"]
plugins:
  - name: prometheus
    config:
      upstream_health_metrics: true
)",
                       {{"TARGET", target}}),
            filters.Options());
  const std::string series = R"(kong_upstream_target_health{upstream="pool",target=")" + target +
                             R"(",address=")" + target + R"(",state=")";
  std::string text;
  // One worker refreshes the gauge every kHealthRefreshMs (1 s), the first time at start.
  const bool seen = Eventually(Millis(5000), [&] {
    text = Metrics(gw.admin_port());
    return !Sample(text, series + R"(healthchecks_off",subsystem="http"})").empty();
  });
  INFO(text);
  REQUIRE(seen);
  CHECK(Sample(text, series + R"(healthchecks_off",subsystem="http"})") == "1");
  CHECK(Sample(text, series + R"(healthy",subsystem="http"})") == "0");
  CHECK(Sample(text, series + R"(unhealthy",subsystem="http"})") == "0");
  CHECK(Sample(text, series + R"(dns_error",subsystem="http"})") == "0");
}

}  // namespace
}  // namespace sluice::testing

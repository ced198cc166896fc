// SPDX-License-Identifier: Apache-2.0
// Load balancing through the real gateway: a service whose host names an `upstreams` entry,
// real sluice-echo targets that are killed and restarted, passive and active health checks,
// the circuit breaker, retries to another target, 503 when no target can serve, and the
// admin health report and metrics.
#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"
#include "tests/support/tls_server.h"

namespace sluice::testing {
namespace {

bool Eventually(Millis limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(Millis(50));
  }
  return done();
}

// A sluice-echo on a fixed port, so a test can kill it and bring it back at the same address.
class Target {
 public:
  explicit Target(std::string name) : name_(std::move(name)), port_(FreePort()) { Start(); }

  void Start() {
    process_.emplace(Process::Spawn({RequireEnv("SLUICE_ECHO_BIN"), "--listen",
                                     "127.0.0.1:" + std::to_string(port_), "--name", name_}));
    if (!WaitForPort(port_, Millis(10000), &*process_))
      throw std::runtime_error("sluice-echo " + name_ + " did not start");
  }

  void Kill() { process_->Kill(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int port_;
  std::optional<Process> process_;
};

// Sends `n` GETs over keep-alive connections (reconnecting after a close) and counts the
// answers by the echo's "service" name; non-200 answers are counted under their status.
std::map<std::string, int> Spread(int port, int n, std::string_view path = "/",
                                  std::string_view extra = "") {
  std::map<std::string, int> seen;
  std::unique_ptr<RawConn> conn;
  for (int i = 0; i < n; ++i) {
    if (conn == nullptr)
      conn = std::make_unique<RawConn>(port);
    Response r;
    if (conn->Send(Request("GET", path, "localhost", extra)))
      r = conn->ReadResponse();
    if (r.status == 200) {
      ++seen[r.Json().value("service", "?")];
    } else {
      ++seen[std::to_string(r.status)];
    }
    if (!r.complete || r.closed || r.Header("connection") == "close")
      conn.reset();
  }
  return seen;
}

SluiceOptions TwoWorkers() {
  SluiceOptions o;
  o.workers = 2;
  return o;
}

nlohmann::json Health(const Sluice& gw, const std::string& upstream) {
  CurlResult r = Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/upstreams/" +
                      upstream + "/health");
  return r.status == 200 ? r.Json() : nlohmann::json();
}

// The health report entry of `target`, or null.
nlohmann::json TargetEntry(const Sluice& gw, const std::string& upstream,
                           const std::string& target) {
  nlohmann::json h = Health(gw, upstream);
  if (h.is_object()) {
    for (const auto& t : h["data"]) {
      if (t["target"] == target)
        return t;
    }
  }
  return nullptr;
}

std::string Pool(const std::vector<std::pair<std::string, int>>& targets,
                 std::string_view algorithm, std::string_view extra = "") {
  std::string yaml = R"(_format_version: "3.0"
services:
  - name: api
    host: pool
    port: 80
    retries: 3
    connect_timeout: 2000
    routes:
      - name: api
        paths: ["/"]
upstreams:
  - name: pool
    algorithm: )" + std::string(algorithm) +
                     "\n" + std::string(extra) + "    targets:\n";
  for (const auto& [address, weight] : targets) {
    yaml += "      - target: " + address + "\n        weight: " + std::to_string(weight) + "\n";
  }
  return yaml;
}

TEST_CASE("balancer: round-robin follows the weights", "[integration][balancer]") {
  Target a("a"), b("b"), c("c");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 200}, {c.address(), 300}}, "round-robin"),
            TwoWorkers());
  const int n = 3000;
  auto seen = Spread(gw.port(), n);
  INFO(::Catch::Detail::stringify(seen));
  CHECK(seen["a"] + seen["b"] + seen["c"] == n);
  // Smooth weighted round-robin is exact per worker: well inside +-3 % of the share.
  CHECK(std::abs(seen["a"] - n / 6) <= n * 3 / 100);
  CHECK(std::abs(seen["b"] - n / 3) <= n * 3 / 100);
  CHECK(std::abs(seen["c"] - n / 2) <= n * 3 / 100);
}

TEST_CASE("balancer: a weight-0 target takes no traffic", "[integration][balancer]") {
  Target a("a"), b("b");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 0}}, "round-robin"));
  auto seen = Spread(gw.port(), 50);
  CHECK(seen["a"] == 50);
  CHECK(seen.count("b") == 0);
}

TEST_CASE("balancer: consistent hashing keeps a key on one target", "[integration][balancer]") {
  Target a("a"), b("b"), c("c");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 100}, {c.address(), 100}}, "consistent-hashing",
                 "    hash_on: header\n    hash_on_header: x-user\n"));
  std::map<std::string, int> owners;
  for (int user = 0; user < 30; ++user) {
    const std::string header = "X-User: u" + std::to_string(user) + "\r\n";
    auto seen = Spread(gw.port(), 5, "/", header);
    INFO("user " << user << ": " << ::Catch::Detail::stringify(seen));
    REQUIRE(seen.size() == 1);  // all five on the same target
    ++owners[seen.begin()->first];
  }
  // 30 keys over 3 equal targets: every target owns some.
  CHECK(owners.size() == 3);
}

TEST_CASE("balancer: least-connections favours the target that is not busy",
          "[integration][balancer]") {
  Target a("a"), b("b");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 100}}, "least-connections"));
  // Hold slow requests in flight; while they run, quick requests must avoid their target.
  std::vector<std::thread> slow;
  std::atomic<int> slow_ok{0};
  std::string slow_target;
  for (int i = 0; i < 4; ++i) {
    slow.emplace_back([&] {
      RawConn conn(gw.port());
      if (conn.Send(Request("GET", "/?sleep=1500")) && conn.ReadResponse().status == 200)
        ++slow_ok;
    });
  }
  std::this_thread::sleep_for(Millis(300));
  // Both targets now hold two slow requests each; add one more slow request, which lands on
  // either, then quick ones must go to the other target.
  RawConn extra(gw.port());
  REQUIRE(extra.Send(Request("GET", "/?sleep=1500")));
  std::this_thread::sleep_for(Millis(200));
  nlohmann::json h = Health(gw, "pool");
  REQUIRE(h.is_object());
  std::string busy;
  for (const auto& t : h["data"]) {
    if (t["active_connections"] == 3)
      busy = t["target"];
  }
  INFO(h.dump());
  REQUIRE(!busy.empty());
  auto seen = Spread(gw.port(), 20);
  const std::string busy_name = busy == a.address() ? "a" : "b";
  const std::string idle_name = busy_name == "a" ? "b" : "a";
  CHECK(seen[idle_name] == 20);
  CHECK(extra.ReadResponse().status == 200);
  for (auto& t : slow)
    t.join();
  CHECK(slow_ok == 4);
}

TEST_CASE("balancer: a target killed under load is ejected without client errors",
          "[integration][balancer]") {
  Target a("a"), b("b"), c("c");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 100}, {c.address(), 100}}, "round-robin",
                 R"(    healthchecks:
      passive:
        unhealthy:
          tcp_failures: 1
      active:
        type: http
        http_path: /
        timeout: 1
        healthy:
          interval: 1
          successes: 1
        unhealthy:
          interval: 1
          tcp_failures: 1
)"),
            TwoWorkers());
  // A bounded load: 3 clients for ~3 s, `c` killed after ~1 s.
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, total{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&] {
      for (int k = 0; k < 20000 && !stop; ++k) {
        auto seen = Spread(gw.port(), 10);
        for (const auto& [key, count] : seen) {
          total += count;
          if (key != "a" && key != "b" && key != "c")
            errors += count;
        }
      }
    });
  }
  std::this_thread::sleep_for(Millis(1000));
  c.Kill();
  std::this_thread::sleep_for(Millis(2000));
  stop = true;
  for (auto& t : clients)
    t.join();
  INFO("requests: " << total << ", errors: " << errors);
  CHECK(total > 100);
  CHECK(errors == 0);

  // Ejected: marked unhealthy, and requests go to the other two only.
  nlohmann::json entry = TargetEntry(gw, "pool", c.address());
  INFO(entry.dump());
  CHECK(entry["health"] == "UNHEALTHY");
  CHECK(!entry["reason"].get<std::string>().empty());
  auto after = Spread(gw.port(), 60);
  CHECK(after.count("c") == 0);
  CHECK(after["a"] + after["b"] == 60);

  // Back at the same address: the active check marks it healthy and it takes traffic again.
  c.Start();
  REQUIRE(Eventually(Millis(10000),
                     [&] { return TargetEntry(gw, "pool", c.address())["health"] == "HEALTHY"; }));
  // Each worker's smooth round-robin state resumes where the pause left it: a third, +-1.
  CHECK(std::abs(Spread(gw.port(), 30)["c"] - 10) <= 1);
}

TEST_CASE("balancer: every target down gives 503 at once", "[integration][balancer]") {
  ClosedPort p1, p2;
  const std::string t1 = "127.0.0.1:" + std::to_string(p1.port());
  const std::string t2 = "127.0.0.1:" + std::to_string(p2.port());
  Sluice gw(Pool({{t1, 100}, {t2, 100}}, "round-robin", R"(    healthchecks:
      passive:
        unhealthy:
          tcp_failures: 1
)"));
  // The first request finds both refused (one try, one retry on the other) and gets 502.
  CHECK(Spread(gw.port(), 1)["502"] == 1);
  REQUIRE(Eventually(Millis(5000), [&] {
    return TargetEntry(gw, "pool", t1)["health"] == "UNHEALTHY" &&
           TargetEntry(gw, "pool", t2)["health"] == "UNHEALTHY";
  }));
  const auto start = std::chrono::steady_clock::now();
  RawConn conn(gw.port());
  REQUIRE(conn.Send(Request("GET", "/")));
  Response r = conn.ReadResponse();
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(r.Describe());
  CHECK(r.status == 503);
  CHECK(r.Json()["message"] == "failure to get a peer from the ring-balancer");
  CHECK(took < Millis(1000));
}

TEST_CASE("balancer: the circuit breaker opens, admits a trial, and closes",
          "[integration][balancer]") {
  // The seed's intelligent-router scenario: three instances, one failing.
  Target a("a"), b("b"), c("c");
  Sluice gw(Pool({{a.address(), 100}, {b.address(), 100}, {c.address(), 100}}, "round-robin",
                 R"(    circuit_breaker:
      enabled: true
      failure_threshold: 3
      open_timeout: 2
      half_open_requests: 1
)"));
  c.Kill();
  // Connect failures on c are retried on a and b: the clients see only 200s.
  auto during = Spread(gw.port(), 30);
  INFO(::Catch::Detail::stringify(during));
  CHECK(during["a"] + during["b"] == 30);
  nlohmann::json entry = TargetEntry(gw, "pool", c.address());
  INFO(entry.dump());
  CHECK(entry["circuit_breaker"] == "open");
  CHECK(entry["failures"].get<int>() == 3);  // open after 3; no further attempts while open

  // Metrics carry the breaker state.
  CurlResult m = Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/metrics");
  const std::string series = "sluice_upstream_target_circuit_breaker_state{upstream=\"pool\"," +
                             std::string("target=\"") + c.address() + "\"} 1";
  CHECK(m.body.find(series) != std::string::npos);

  // Still down after the open timeout: the one trial fails and the breaker opens again.
  std::this_thread::sleep_for(Millis(2200));
  CHECK(Spread(gw.port(), 10).count("502") == 0);
  CHECK(TargetEntry(gw, "pool", c.address())["circuit_breaker"] == "open");
  CHECK(TargetEntry(gw, "pool", c.address())["failures"].get<int>() == 4);

  // Back: after the open timeout the trial succeeds, the breaker closes, c serves again.
  c.Start();
  std::this_thread::sleep_for(Millis(2200));
  auto healed = Spread(gw.port(), 30);
  INFO(::Catch::Detail::stringify(healed));
  CHECK(TargetEntry(gw, "pool", c.address())["circuit_breaker"] == "closed");
  CHECK(healed["c"] >= 5);
  CHECK(healed["a"] + healed["b"] + healed["c"] == 30);
}

TEST_CASE("balancer: https active checks pass a TLS target and fail a plain HTTP one",
          "[integration][balancer]") {
  TestPki pki;
  OpensslServer tls(pki, 0, /*start=*/false);  // nothing listens yet: refused
  Target plain("plain");
  Sluice gw(Pool({{tls.address(), 100}, {plain.address(), 100}}, "round-robin", R"(    healthchecks:
      active:
        type: https
        https_verify_certificate: false
        healthy:
          interval: 1
          successes: 1
        unhealthy:
          interval: 1
          tcp_failures: 1
)"));
  REQUIRE(Eventually(Millis(10000), [&] {
    return TargetEntry(gw, "pool", tls.address())["health"] == "UNHEALTHY" &&
           TargetEntry(gw, "pool", plain.address())["health"] == "UNHEALTHY";
  }));
  nlohmann::json refused = TargetEntry(gw, "pool", tls.address());
  INFO(refused.dump());
  CHECK(refused["reason"] == "active check: 1 tcp failures, last error: connection refused");

  // The TLS server comes up: the next https probe (handshake, GET, 200) heals its target.
  tls.Start();
  REQUIRE(Eventually(Millis(10000), [&] {
    return TargetEntry(gw, "pool", tls.address())["health"] == "HEALTHY";
  }));
  nlohmann::json healed = TargetEntry(gw, "pool", tls.address());
  INFO(healed.dump());
  CHECK(healed["reason"] == "active check: 1 successes");
  // sluice-echo answers the ClientHello as bad HTTP: the handshake fails, a tcp failure.
  nlohmann::json down = TargetEntry(gw, "pool", plain.address());
  INFO(down.dump());
  CHECK(down["health"] == "UNHEALTHY");
  CHECK(down["reason"] ==
        "active check: 1 tcp failures, last error: tls handshake failed: wrong version number");
}

TEST_CASE("balancer: admin health report and unknown upstream", "[integration][balancer]") {
  Target a("a");
  Sluice gw(Pool({{a.address(), 100}}, "round-robin"));
  nlohmann::json h = Health(gw, "pool");
  INFO(h.dump());
  REQUIRE(h["data"].size() == 1);
  CHECK(h["data"][0]["target"] == a.address());
  CHECK(h["data"][0]["address"] == a.address());
  CHECK(h["data"][0]["weight"] == 100);
  CHECK(h["data"][0]["health"] == "HEALTHCHECKS_OFF");
  CHECK(h["data"][0]["circuit_breaker"] == "closed");
  CHECK(h["node_id"].get<std::string>().size() == 36);
  CurlResult missing =
      Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/upstreams/nope/health");
  CHECK(missing.status == 404);
}

}  // namespace
}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
// Hostname targets through the real gateway, with --dns-resolver pointed at a DNS server on
// the loopback: traffic follows a changed record once its TTL expires, startup and reload look
// new names up before the config serves, and the admin API stays responsive meanwhile.
#include <chrono>
#include <csignal>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/dns_server.h"
#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kName[] = "api.sluice.test";

// Routes /a to a numeric target and, when `with_b`, /b to the hostname target
// api.sluice.test:PORT (upstream "named").
std::string Config(const EchoServer& a, int named_port, bool with_b) {
  std::string yaml = R"(_format_version: "3.0"
services:
  - name: a
    url: http://)" + a.address() +
                     R"(
    routes:
      - name: a
        paths: ["/a"]
)";
  if (with_b) {
    yaml += R"(  - name: b
    host: named
    port: 80
    routes:
      - name: b
        paths: ["/b"]
upstreams:
  - name: named
    targets:
      - target: api.sluice.test:)" +
            std::to_string(named_port) + "\n";
  }
  return yaml;
}

SluiceOptions WithResolver(const DnsServer& dns) {
  SluiceOptions o;
  o.extra_args = {"--dns-resolver", dns.address()};
  return o;
}

// GET `path`; the echo's service name on a 200, else the status as text.
std::string Who(int port, const std::string& path) {
  RawConn conn(port);
  if (!conn.Send(Request("GET", path)))
    return "send failed";
  Response r = conn.ReadResponse();
  return r.status == 200 ? r.Json().value("service", "?") : std::to_string(r.status);
}

// Polls GET `path` (10 s at most) until `to` answers, then returns how many answers came from
// neither `from` nor `to`; -1 when `to` never answered.
int Switches(int port, const std::string& path, const std::string& from, const std::string& to) {
  int others = 0;
  const auto deadline = Clock::now() + Millis(10000);
  while (Clock::now() < deadline) {
    const std::string who = Who(port, path);
    if (who == to)
      return others;
    others += who != from;
    std::this_thread::sleep_for(Millis(50));
  }
  return -1;
}

nlohmann::json Status(const Sluice& gw) {
  return Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/status").Json();
}

TEST_CASE("dns: traffic follows a changed record once its TTL expires", "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  EchoServer two("two", "127.0.0.2", one.port());  // same port, another loopback address
  dns.Set(kName, "127.0.0.1", 1);
  Sluice gw(Config(one, one.port(), true), WithResolver(dns));
  CHECK(Who(gw.port(), "/b") == "one");

  dns.Set(kName, "127.0.0.2", 1);
  CHECK(Switches(gw.port(), "/b", "one", "two") == 0);  // the move never failed a request
  const nlohmann::json health =
      Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/upstreams/named/health")
          .Json();
  CHECK(health["data"][0]["address"] == "127.0.0.2:" + std::to_string(one.port()));
}

TEST_CASE("dns: startup looks hostname targets up before serving", "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  dns.Set(kName, "127.0.0.1", 60);
  dns.SetDelay(Millis(800));
  Sluice gw(Config(one, one.port(), true), WithResolver(dns));
  CHECK(Who(gw.port(), "/b") == "one");  // never a 503 for a target still being looked up
  CHECK(dns.Queries(kName) == 1);
}

TEST_CASE("dns: a reload goes live once its new names resolve, the admin API answers meanwhile",
          "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  EchoServer two("two", "127.0.0.2", one.port());
  dns.Set(kName, "127.0.0.2", 60);
  Sluice gw(Config(one, one.port(), false), WithResolver(dns));
  REQUIRE(Who(gw.port(), "/b") == "404");

  dns.SetDelay(Millis(3000));
  gw.dir().WriteFile("kong.yml", Config(one, one.port(), true));
  const auto start = Clock::now();
  gw.process().Signal(SIGHUP);
  // While the lookup is pending: the admin API answers at once, the old config still serves.
  const nlohmann::json during = Status(gw);
  CHECK(Clock::now() - start < Millis(2000));
  CHECK(during["config"]["version"] == 1);
  CHECK(Who(gw.port(), "/a") == "one");

  // Before the switch the old config's 404, then "two": never a 503.
  CHECK(Switches(gw.port(), "/b", "404", "two") == 0);
  CHECK(Clock::now() - start >= Millis(2500));  // it waited for the answer
  CHECK(Status(gw)["config"]["version"] == 2);
}

TEST_CASE("dns: a service whose host is a DNS name follows its record too", "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  EchoServer two("two", "127.0.0.2", one.port());
  dns.Set(kName, "127.0.0.1", 1);
  const std::string port = std::to_string(one.port());
  Sluice gw(R"(_format_version: "3.0"
services:
  - name: named
    url: http://api.sluice.test:)" +
                port + R"(
    routes:
      - name: named
        paths: ["/b"]
  - name: missing
    url: http://nowhere.sluice.test:)" +
                port + R"(
    routes:
      - name: missing
        paths: ["/c"]
)",
            WithResolver(dns));
  CHECK(Who(gw.port(), "/b") == "one");
  RawConn conn(gw.port());
  REQUIRE(conn.Send(Request("GET", "/c")));
  const Response missing = conn.ReadResponse();
  CHECK(missing.status == 503);
  CHECK(missing.Json()["message"] == "name resolution failed");

  dns.Set(kName, "127.0.0.2", 1);
  CHECK(Switches(gw.port(), "/b", "one", "two") == 0);  // the move never failed a request
  // Not an `upstreams` entry: absent from the admin's upstream routes and the metrics.
  const std::string admin = "http://127.0.0.1:" + std::to_string(gw.admin_port());
  CHECK(Curl(admin + "/upstreams/api.sluice.test:" + port + "/health").status == 404);
  CHECK(Curl(admin + "/metrics").body.find("sluice.test") == std::string::npos);
}

TEST_CASE("dns: a name with several A records spreads requests over all of them",
          "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  EchoServer two("two", "127.0.0.2", one.port());
  dns.SetRecords(kName, {"127.0.0.1", "127.0.0.2"}, 60);
  Sluice gw(Config(one, one.port(), true), WithResolver(dns));
  std::map<std::string, int> seen;
  for (int i = 0; i < 20; ++i)
    ++seen[Who(gw.port(), "/b")];
  CHECK(seen["one"] >= 5);
  CHECK(seen["two"] >= 5);
  CHECK(seen["one"] + seen["two"] == 20);
  const nlohmann::json health =
      Curl("http://127.0.0.1:" + std::to_string(gw.admin_port()) + "/upstreams/named/health")
          .Json();
  CHECK(health["data"][0]["addresses"].size() == 2);
}

TEST_CASE("dns: a dead address among several costs no failed request", "[integration][dns]") {
  DnsServer dns;
  EchoServer one("one");
  // Nothing listens on 127.0.0.3: a connect there is refused, retried on the next address,
  // and that address then sits out.
  dns.SetRecords(kName, {"127.0.0.1", "127.0.0.3"}, 60);
  Sluice gw(Config(one, one.port(), true), WithResolver(dns));
  std::map<std::string, int> seen;
  for (int i = 0; i < 20; ++i)
    ++seen[Who(gw.port(), "/b")];
  CHECK(seen["one"] == 20);
}

TEST_CASE("dns: a malformed --dns-resolver is refused at startup", "[integration][dns]") {
  TempDir dir;
  const std::string config = dir.WriteFile("kong.yml", "_format_version: \"3.0\"\n");
  Process p = Process::Spawn({RequireEnv("SLUICE_BIN"), "-c", config, "--listen",
                              "127.0.0.1:" + std::to_string(FreePort()), "--admin-listen", "off",
                              "--dns-resolver", "not-an-address"});
  CHECK(p.Wait(Millis(10000)) == 2);
  CHECK(p.ReadStderr().find("--dns-resolver: 'not-an-address': expected IP[:PORT]") !=
        std::string::npos);
}

}  // namespace
}  // namespace sluice::testing

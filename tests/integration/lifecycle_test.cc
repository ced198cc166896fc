// SPDX-License-Identifier: Apache-2.0
// The process around the proxy (DESIGN.md §4, §8): graceful SIGTERM, SIGHUP reloads, the
// validate/--version/--help commands, the admin API's counters, and start-up failures.
#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <re2/re2.h>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: a
        paths: ["/a"]
)";

constexpr const char* kConfigWithB = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: a
        paths: ["/a"]
      - name: b
        paths: ["/b"]
)";

// Invalid: `pathz` is no route field (line 9, column 9).
constexpr const char* kInvalidConfig = R"(_format_version: "3.0"
services:
  - name: main
    url: ${MAIN}
    routes:
      - name: a
        paths: ["/a"]
      - name: b
        pathz: ["/b"]
)";

struct Gateway {
  explicit Gateway(SluiceOptions options = {})
      : sluice(Substitute(kConfig, {{"MAIN", main.url()}}), std::move(options)) {}

  EchoServer main{"main"};
  Sluice sluice;
};

Response Get(int port, std::string_view target) {
  RawConn conn(port);
  if (!conn.Send(Request("GET", target))) {
    Response r;
    r.error = "send failed";
    return r;
  }
  return conn.ReadResponse();
}

// True when a TCP connect to 127.0.0.1:port succeeds.
bool CanConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Runs `sluice ARGS...` to completion (bounded) and returns it, exited.
struct Run {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Run RunSluice(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {RequireEnv("SLUICE_BIN")};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p = Process::Spawn(argv);
  Run run;
  const auto code = p.Wait(Millis(30000));
  run.exit_code = code.value_or(-1);
  run.out = p.ReadStdout();
  run.err = p.ReadStderr();
  return run;
}

// 1-based line and column of the first `needle` in `text`, as "L:C".
std::string Position(std::string_view text, std::string_view needle) {
  const size_t at = text.find(needle);
  REQUIRE(at != std::string_view::npos);
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + at, '\n'));
  const size_t line_start = text.rfind('\n', at);
  const size_t col = at - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return std::to_string(line) + ":" + std::to_string(col);
}

// Polls `done` every 20 ms for up to `timeout`; returns its last value.
template <typename F>
bool Eventually(Millis timeout, F done) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(Millis(20));
  }
  return true;
}

TEST_CASE("lifecycle: SIGTERM finishes the in-flight request, refuses new ones, exits 0",
          "[integration][lifecycle]") {
  Gateway gw;
  const int port = gw.sluice.port();
  RawConn conn(port);
  REQUIRE(conn.Send(Request("GET", "/a/delay/1000")));
  // The echo counts a request when it starts answering it (here: starts the 1 s timer).
  REQUIRE(Eventually(Millis(10000), [&] { return gw.main.GetStats().requests == 1; }));
  gw.sluice.process().Signal(SIGTERM);

  // While the request is still in flight, the listener goes away.
  bool refused = false;
  bool running_when_refused = false;
  const auto deadline = Clock::now() + Millis(5000);
  while (Clock::now() < deadline) {
    if (!CanConnect(port)) {
      refused = true;
      running_when_refused = gw.sluice.process().Running();
      break;
    }
    std::this_thread::sleep_for(Millis(10));
  }
  CHECK(refused);
  CHECK(running_when_refused);

  const Response r = conn.ReadResponse();
  INFO(r.Describe());
  CHECK(r.complete);
  CHECK(r.status == 200);
  CHECK(r.Json()["path"] == "/delay/1000");
  CHECK(gw.sluice.process().Wait(Millis(20000)) == 0);
  CHECK_FALSE(CanConnect(port));
}

TEST_CASE("lifecycle: SIGHUP with a valid config switches routing", "[integration][lifecycle]") {
  Gateway gw;
  CHECK(Get(gw.sluice.port(), "/b/x").status == 404);
  gw.sluice.dir().WriteFile("kong.yml", Substitute(kConfigWithB, {{"MAIN", gw.main.url()}}));
  gw.sluice.process().Signal(SIGHUP);
  const bool switched =
      Eventually(Millis(10000), [&] { return Get(gw.sluice.port(), "/b/x").status == 200; });
  INFO(gw.sluice.process().ReadStderr());
  REQUIRE(switched);
  const Response b = Get(gw.sluice.port(), "/b/x");
  CHECK(b.Json()["path"] == "/x");
  CHECK(Get(gw.sluice.port(), "/a/x").status == 200);
  const Response status = Get(gw.sluice.admin_port(), "/status");
  INFO(status.Describe());
  CHECK(status.Json()["config"]["version"] == 2);
  CHECK(status.Json()["config"]["routes"] == 2);
  CHECK(gw.sluice.process().Running());
}

TEST_CASE("lifecycle: SIGHUP with an invalid config keeps the old one and logs where",
          "[integration][lifecycle]") {
  Gateway gw;
  const std::string invalid = Substitute(kInvalidConfig, {{"MAIN", gw.main.url()}});
  gw.sluice.dir().WriteFile("kong.yml", invalid);
  const std::string expected_line = gw.sluice.config_path() + ":" + Position(invalid, "pathz") +
                                    ": services[0].routes[1].pathz: unknown field\n";
  gw.sluice.process().Signal(SIGHUP);
  const bool logged = Eventually(Millis(10000), [&] {
    return gw.sluice.process().ReadStderr().find(expected_line) != std::string::npos;
  });
  INFO("expected line: " << expected_line << "stderr:\n" << gw.sluice.process().ReadStderr());
  CHECK(logged);
  CHECK(gw.sluice.process().Running());
  const Response a = Get(gw.sluice.port(), "/a/x");
  CHECK(a.status == 200);
  CHECK(a.Json()["path"] == "/x");
  CHECK(Get(gw.sluice.port(), "/b/x").status == 404);
  CHECK(Get(gw.sluice.admin_port(), "/status").Json()["config"]["version"] == 1);
}

TEST_CASE("lifecycle: validate accepts every example config", "[integration][lifecycle]") {
  const std::filesystem::path examples =
      std::filesystem::path(RequireEnv("SLUICE_SOURCE_DIR")) / "examples";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path().string());
    }
  }
  REQUIRE_FALSE(files.empty());
  for (const std::string& file : files) {
    const Run run = RunSluice({"validate", "-c", file});
    INFO(file << "\nstdout: " << run.out << "\nstderr: " << run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
  }
}

TEST_CASE("lifecycle: validate rejects a bad file with file:line:col", "[integration][lifecycle]") {
  TempDir dir;

  struct Case {
    const char* text;
    const char* message;  // after "FILE:LINE:COL: "
    const char* at;       // where the error points
  };

  const Case c = GENERATE(
      Case{"_format_version: \"3.0\"\nservices:\n  - name: a\n    host: example.com\n"
           "    routes:\n      - paths: [\"/x\"]\n        stip_path: true\n",
           "services[0].routes[0].stip_path: unknown field", "stip_path"},
      Case{"_format_version: \"3.0\"\nservices:\n  - name: a\n    host: example.com\n"
           "    port: \"80\"\n",
           "services[0].port: expected an integer", "\"80\""},
      Case{"_format_version: \"3.0\"\nservices:\n  - name: a\n    host: example.com\n"
           "    routes:\n      - paths: [\"x\"]\n",
           "services[0].routes[0].paths[0]: should start with: / (fixed path) or ~/ (regex path)",
           "\"x\""},
      Case{"_format_version: \"3.0\"\nservices:\n  - name: a\n    host: example.com\n"
           "    routes:\n      - paths: [\"/x\"]\n        service: {x: [}\n",
           "failed parsing declarative configuration: illegal flow end", "}"});
  const std::string path = dir.WriteFile("bad.yaml", c.text);
  const std::string where = Position(c.text, c.at);
  const Run run = RunSluice({"validate", "-c", path});
  INFO(run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.err == path + ":" + where + ": " + c.message + "\n");
  CHECK(run.out.empty());
}

TEST_CASE("lifecycle: --version and --help exit 0", "[integration][lifecycle]") {
  const Run version = RunSluice({"--version"});
  INFO(version.out << version.err);
  CHECK(version.exit_code == 0);
  CHECK(RE2::FullMatch(version.out, R"(sluice \d+\.\d+\.\d+\S*\n)"));
  const Run help = RunSluice({"--help"});
  INFO(help.out << help.err);
  CHECK(help.exit_code == 0);
  CHECK(help.out.rfind("usage: sluice -c FILE", 0) == 0);
  CHECK(help.out.find("sluice validate -c FILE") != std::string::npos);
  CHECK(help.out.find("sluice --version | --help") != std::string::npos);
  CHECK(help.err.empty());
}

// The value of the sample `name` (the whole series text, labels included) in a Prometheus text
// exposition, or -1 when absent.
long long Sample(const std::string& metrics, const std::string& name) {
  const std::string prefix = "\n" + name + " ";
  const size_t at = ("\n" + metrics).find(prefix);
  if (at == std::string::npos) {
    return -1;
  }
  return std::stoll(metrics.substr(at + prefix.size() - 1));
}

TEST_CASE("lifecycle: the admin API counts requests", "[integration][lifecycle]") {
  Gateway gw;
  const int admin = gw.sluice.admin_port();
  const std::string k2xx = R"(sluice_requests_total{status_class="2xx"})";
  const std::string k4xx = R"(sluice_requests_total{status_class="4xx"})";

  const Response status0 = Get(admin, "/status");
  INFO(status0.Describe());
  REQUIRE(status0.status == 200);
  CHECK(status0.Header("content-type").rfind("application/json", 0) == 0);
  const nlohmann::json s0 = status0.Json();
  REQUIRE(s0["server"]["total_requests"].is_number_unsigned());
  const uint64_t total0 = s0["server"]["total_requests"].get<uint64_t>();

  const Response metrics0 = Get(admin, "/metrics");
  INFO(metrics0.Describe());
  REQUIRE(metrics0.status == 200);
  CHECK(metrics0.Header("content-type").rfind("text/plain", 0) == 0);
  const long long ok0 = Sample(metrics0.body, k2xx);
  const long long notfound0 = Sample(metrics0.body, k4xx);
  REQUIRE(ok0 >= 0);
  REQUIRE(notfound0 >= 0);

  for (int i = 0; i < 3; ++i) {
    REQUIRE(Get(gw.sluice.port(), "/a/n" + std::to_string(i)).status == 200);
  }
  REQUIRE(Get(gw.sluice.port(), "/nowhere").status == 404);

  // The counters are bumped as each exchange ends, just after its last byte is written.
  std::string metrics;
  const bool counted = Eventually(Millis(5000), [&] {
    metrics = Get(admin, "/metrics").body;
    return Sample(metrics, k2xx) >= ok0 + 3 && Sample(metrics, k4xx) >= notfound0 + 1;
  });
  INFO(metrics);
  CHECK(counted);
  CHECK(Sample(metrics, k2xx) == ok0 + 3);
  CHECK(Sample(metrics, k4xx) == notfound0 + 1);
  const nlohmann::json s1 = Get(admin, "/status").Json();
  INFO(s1.dump());
  CHECK(s1["server"]["total_requests"] == total0 + 4);
}

TEST_CASE("lifecycle: an unknown admin path is 404", "[integration][lifecycle]") {
  Gateway gw;
  const Response r = Get(gw.sluice.admin_port(), "/no-such-thing");
  INFO(r.Describe());
  CHECK(r.status == 404);
  CHECK(r.Header("content-type").rfind("application/json", 0) == 0);
  CHECK(r.Json() == nlohmann::json::parse(R"({"message":"Not found"})"));
}

TEST_CASE("lifecycle: a second gateway on a busy port exits non-zero naming the address",
          "[integration][lifecycle]") {
  Gateway gw;
  const std::string bin = RequireEnv("SLUICE_BIN");
  const std::string config = gw.sluice.config_path();
  std::string proxy_addr = "127.0.0.1:" + std::to_string(FreePort());
  std::string admin_addr = "127.0.0.1:" + std::to_string(FreePort());
  std::string busy;
  SECTION("the proxy port of a running gateway") {
    proxy_addr = busy = "127.0.0.1:" + std::to_string(gw.sluice.port());
  }
  SECTION("a proxy port another program listens on") { proxy_addr = busy = gw.main.address(); }
  SECTION("the admin port of a running gateway") {
    admin_addr = busy = "127.0.0.1:" + std::to_string(gw.sluice.admin_port());
  }
  Process second = Process::Spawn({bin, "-c", config, "--listen", proxy_addr, "--admin-listen",
                                   admin_addr, "--workers", "1", "--access-log", "off"});
  const auto code = second.Wait(Millis(15000));
  INFO("busy " << busy << "\nstderr:\n" << second.ReadStderr());
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  CHECK(second.ReadStderr().find(busy) != std::string::npos);
  // The first gateway is unharmed.
  CHECK(Get(gw.sluice.port(), "/a/x").status == 200);
}

}  // namespace
}  // namespace sluice::testing

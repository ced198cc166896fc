// SPDX-License-Identifier: Apache-2.0
// https health probes on a real loop against a real TLS server (openssl s_server) with a CA
// made for the test, which SSL_CERT_FILE makes trusted.
#include "core/balancer/tls_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <stdlib.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <uv.h>

#include "core/balancer/health_checker.h"
#include "core/balancer/health_report.h"
#include "core/balancer/probe.h"
#include "tests/support/harness.h"
#include "tests/support/run_loop.h"
#include "tests/support/tls_server.h"

namespace sluice::balancer {
namespace {

using sluice::testing::RunUntil;

// Sets an environment variable for one scope and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) {
      had_ = true;
      old_ = old;
    }
    setenv(name, value.c_str(), 1);
  }

  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

// Trusts exactly `ca_file` (no system roots) in contexts made while this lives.
struct TrustOnly {
  TrustOnly(const std::string& ca_file, const std::string& empty_dir)
      : file("SSL_CERT_FILE", ca_file), dir("SSL_CERT_DIR", empty_dir) {}

  ScopedEnv file;
  ScopedEnv dir;
};

// A listening socket on 127.0.0.1 that never answers: the kernel completes TCP connects, so a
// probe's TLS handshake starts and then waits.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("silent listener: cannot listen");
    }
    port_ = ntohs(a.sin_port);
  }

  ~SilentListener() {
    if (conn_ >= 0)
      close(conn_);
    close(fd_);
  }

  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }

  // Without blocking: accepts the first connection, then returns the first byte it sent; -1
  // while there is none yet.
  int PollFirstByte() {
    if (conn_ < 0) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 0) != 1)
        return -1;
      conn_ = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn_ < 0)
        return -1;
    }
    pollfd q{conn_, POLLIN, 0};
    unsigned char byte = 0;
    if (poll(&q, 1, 0) != 1 || read(conn_, &byte, 1) != 1)
      return -1;
    return byte;
  }

 private:
  int fd_ = -1;
  int conn_ = -1;
  int port_ = 0;
};

net::Address Loopback(int port) {
  net::Address a;
  REQUIRE(net::ParseNumeric("127.0.0.1", port, &a));
  return a;
}

struct Outcome {
  bool done = false;
  ProbeResult result;
};

void Record(void* owner, const ProbeResult& r) {
  auto* o = static_cast<Outcome*>(owner);
  o->done = true;
  o->result = r;
}

const std::string kRequest =
    "GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: sluice-healthcheck\r\n"
    "Connection: close\r\n\r\n";

// One probe of 127.0.0.1:port on a fresh loop, run to its end; the loop must close cleanly.
ProbeResult RunProbe(int port, const ProbeTls& tls, uint64_t timeout_ms = 5000) {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  Outcome out;
  int err = 0;
  Probe* p = Probe::Start(&loop, Loopback(port), kRequest, &tls, timeout_ms, Record, &out, &err);
  REQUIRE(p != nullptr);
  CHECK(RunUntil(
      &loop, [&] { return out.done; }, std::chrono::seconds(10)));
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  REQUIRE(out.done);
  return out.result;
}

ProbeTls Tls(SSL_CTX* ctx, std::string sni, std::string verify_name, bool verify) {
  ProbeTls t;
  t.ctx = ctx;
  t.sni = std::move(sni);
  t.verify_name = std::move(verify_name);
  t.verify = verify;
  return t;
}

TEST_CASE("tls probe: https without verification reads the status over tls", "[balancer][tls]") {
  testing::TestPki pki;
  testing::OpensslServer server(pki);
  TrustOnly trust(pki.other_ca(), pki.empty_dir());  // would reject the certificate
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  const ProbeResult r = RunProbe(server.port(), Tls(ctx->get(), "", "127.0.0.1", false));
  CHECK(r.event == HealthEvent::kSuccess);
  CHECK(r.status == 200);
  CHECK(r.error == 0);
}

TEST_CASE("tls probe: a certificate from a trusted CA passes, matched by IP or by name",
          "[balancer][tls]") {
  testing::TestPki pki;
  testing::OpensslServer server(pki);
  TrustOnly trust(pki.ca(), pki.empty_dir());
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  ProbeTls tls;
  SECTION("an IP literal target: no SNI, the IP must be in the certificate") {
    tls = Tls(ctx->get(), "", "127.0.0.1", true);
  }
  SECTION("a host name sent as SNI and matched") {
    tls = Tls(ctx->get(), "localhost", "localhost", true);
  }
  const ProbeResult r = RunProbe(server.port(), tls);
  INFO(ProbeErrorText(r.error));
  CHECK(r.event == HealthEvent::kSuccess);
  CHECK(r.status == 200);
}

TEST_CASE("tls probe: a rejected certificate is a tcp failure that says why", "[balancer][tls]") {
  testing::TestPki pki;
  testing::OpensslServer server(pki);
  std::string ca = pki.ca();
  ProbeTls tls;
  int want = 0;
  std::string text;
  SECTION("signed by a CA that is not trusted") {
    ca = pki.other_ca();
    tls.verify_name = "127.0.0.1";
    want = TlsVerifyError(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    text = "tls certificate rejected: unable to get local issuer certificate";
  }
  SECTION("trusted, but for another host name") {
    tls.sni = tls.verify_name = "other.example";
    want = TlsVerifyError(X509_V_ERR_HOSTNAME_MISMATCH);
    text = "tls certificate rejected: hostname mismatch";
  }
  SECTION("trusted, but for another IP") {
    tls.verify_name = "127.0.0.2";
    want = TlsVerifyError(X509_V_ERR_IP_ADDRESS_MISMATCH);
    text = "tls certificate rejected: IP address mismatch";
  }
  TrustOnly trust(ca, pki.empty_dir());
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  tls.ctx = ctx->get();
  const ProbeResult r = RunProbe(server.port(), tls);
  CHECK(r.event == HealthEvent::kTcpFailure);
  CHECK(r.status == 0);
  CHECK(r.error == want);
  CHECK(ProbeErrorText(r.error) == text);
}

TEST_CASE("tls probe: a plain HTTP server fails the handshake as a tcp failure",
          "[balancer][tls]") {
  testing::EchoServer echo;
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  const ProbeResult r = RunProbe(echo.port(), Tls(ctx->get(), "", "127.0.0.1", false));
  CHECK(r.event == HealthEvent::kTcpFailure);
  CHECK(r.error == TlsHandshakeError(SSL_R_WRONG_VERSION_NUMBER));
  CHECK(ProbeErrorText(r.error) == "tls handshake failed: wrong version number");
}

TEST_CASE("tls probe: a server that never answers the handshake times out", "[balancer][tls]") {
  SilentListener silent;
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  const ProbeResult r = RunProbe(silent.port(), Tls(ctx->get(), "", "127.0.0.1", false), 200);
  CHECK(r.event == HealthEvent::kTimeout);
  CHECK(r.error == UV_ETIMEDOUT);
}

TEST_CASE("tls probe: cancel before the connect and in the handshake frees everything",
          "[balancer][tls]") {
  SilentListener silent;
  auto ctx = NewProbeTlsContext();
  REQUIRE(ctx.ok());
  const ProbeTls tls = Tls(ctx->get(), "localhost", "localhost", true);
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  Outcome out;
  int err = 0;
  Probe* p = Probe::Start(&loop, Loopback(silent.port()), kRequest, &tls, 5000, Record, &out, &err);
  REQUIRE(p != nullptr);
  SECTION("before the connect completes") { p->Cancel(); }
  SECTION("after the ClientHello went out") {
    // Turn the loop until the probe's ClientHello (a TLS handshake record, 0x16) has arrived.
    int first = -1;
    REQUIRE(RunUntil(
        &loop,
        [&] {
          if (first < 0)
            first = silent.PollFirstByte();
          return first >= 0;
        },
        std::chrono::seconds(10)));
    CHECK(first == 0x16);
    p->Cancel();
  }
  // The context may go before the cancelled probe's handles close: the session holds a reference.
  ctx->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
  CHECK_FALSE(out.done);
}

// Config-level: https probes heal a target only when TLS and the certificate checks pass (else
// they take it down); the other target speaks plain HTTP and goes down.
TEST_CASE("health checker: https probes follow https_sni and https_verify_certificate",
          "[balancer][checker][tls]") {
  testing::TestPki pki;
  testing::OpensslServer server(pki);
  testing::EchoServer echo;
  TrustOnly trust(pki.ca(), pki.empty_dir());  // before the checker makes its context
  config::Upstream u;
  u.name = "svc";
  for (int port : {server.port(), echo.port()}) {
    config::Target t;
    t.host = "127.0.0.1";
    t.port = port;
    t.target = "127.0.0.1:" + std::to_string(port);
    u.targets.push_back(t);
  }
  auto& a = u.healthchecks.active;
  a.type = "https";
  a.healthy.interval = 1;
  a.unhealthy.interval = 1;
  a.healthy.successes = 1;
  a.unhealthy.tcp_failures = 1;
  std::string reason;
  bool heals = true;
  SECTION("verified by IP, no SNI") { reason = "active check: 1 successes"; }
  SECTION("https_sni names the certificate's host") {
    a.https_sni = "localhost";
    reason = "active check: 1 successes";
  }
  SECTION("https_sni names another host") {
    a.https_sni = "other.example";
    heals = false;
    reason =
        "active check: 1 tcp failures, last error: tls certificate rejected: hostname mismatch";
  }
  SECTION("https_verify_certificate false accepts the wrong name") {
    a.https_sni = "other.example";
    a.https_verify_certificate = false;
    reason = "active check: 1 successes";
  }
  config::Config cfg;
  cfg.upstreams.push_back(u);
  auto set = Set::Build(cfg, {}, nullptr);
  const Upstream& up = set->at(0);
  // Start each target in the state its probes must change, so every verdict shows in a reason.
  up.SetHealthy(0, !heals);

  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  HealthChecker checker(&loop, {});
  checker.Update(set);
  auto settled = [&] {
    const auto rows = ReportHealth(up);
    return !rows[0].reason.empty() && rows[0].reason != "set by the admin" &&
           !rows[1].reason.empty();
  };
  REQUIRE(RunUntil(&loop, settled, std::chrono::seconds(10)));
  const auto rows = ReportHealth(up);
  CHECK(rows[0].health == (heals ? Health::kHealthy : Health::kUnhealthy));
  CHECK(rows[0].reason == reason);
  CHECK(rows[1].health == Health::kUnhealthy);
  CHECK(rows[1].reason ==
        "active check: 1 tcp failures, last error: tls handshake failed: wrong version number");
  checker.Stop();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// One active health probe on a libuv loop: connect, optionally a TLS handshake, optionally send
// an HTTP request and read the status line, all under one timeout. Frees itself once its
// handles have closed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <openssl/types.h>
#include <uv.h>

#include "core/balancer/health.h"
#include "core/net/address.h"

namespace sluice::balancer {

struct ProbeResult {
  HealthEvent event = HealthEvent::kSuccess;  // kSuccess also for an HTTP answer
  int status = 0;                             // HTTP status; 0 for a TCP probe or a failure
  int error = 0;  // of a TCP failure: a libuv error or a TLS code (tls_probe.h)
};

// "connection refused", "tls handshake failed: wrong version number", ...: the text of a
// ProbeResult::error, for the admin report.
std::string ProbeErrorText(int error);

// TLS for an https (or grpcs) probe. A handshake or certificate failure is a TCP failure.
struct ProbeTls {
  SSL_CTX* ctx = nullptr;   // borrowed for Start only: the session takes its own reference
  std::string sni;          // server name to send; empty: none
  std::string verify_name;  // host name or IP literal the certificate must match
  bool verify = true;       // false: any certificate will do
};

class TlsSession;

class Probe {
 public:
  // Called once, on the loop thread, unless the probe was cancelled first.
  using Done = void (*)(void* owner, const ProbeResult& r);

  // Starts a probe of `addr`: a TCP connect, then a TLS handshake when `tls` is given, then
  // when `request` is not empty the request is written and the response's status line read.
  // Returns nullptr (with *err set) when the probe cannot even start; the caller counts that
  // as a TCP failure.
  static Probe* Start(uv_loop_t* loop, const net::Address& addr, std::string request,
                      const ProbeTls* tls, uint64_t timeout_ms, Done done, void* owner, int* err);

  // No callback after this; the probe frees itself once its handles close.
  void Cancel();

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

 private:
  Probe();
  ~Probe();

  void OnConnected();
  void Finish(const ProbeResult& r);
  void OnTlsRead(ssize_t nread);
  void OnPlain(long n);
  void Send(std::string bytes);
  static void OnClosed(uv_handle_t* h);

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  std::string request_;
  std::unique_ptr<TlsSession> tls_;  // nullptr: plain TCP
  char buf_[128];                    // the response; enough for any status line we care about
  size_t got_ = 0;
  std::unique_ptr<char[]> net_buf_;  // TLS only: ciphertext as read
  int open_handles_ = 0;
  bool finished_ = false;
  Done done_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace sluice::balancer

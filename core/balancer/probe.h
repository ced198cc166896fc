// SPDX-License-Identifier: Apache-2.0
// One active health probe on a libuv loop: connect, optionally send an HTTP request and read
// the status line, all under one timeout. Frees itself once its handles have closed.
#pragma once

#include <cstdint>
#include <string>

#include <uv.h>

#include "core/balancer/health.h"
#include "core/net/address.h"

namespace sluice::balancer {

struct ProbeResult {
  HealthEvent event = HealthEvent::kSuccess;  // kSuccess also for an HTTP answer
  int status = 0;                             // HTTP status; 0 for a TCP probe or a failure
  int error = 0;                              // libuv error of a TCP failure
};

class Probe {
 public:
  // Called once, on the loop thread, unless the probe was cancelled first.
  using Done = void (*)(void* owner, const ProbeResult& r);

  // Starts a probe of `addr`: a TCP connect, then when `request` is not empty the request is
  // written and the response's status line read. Returns nullptr (with *err set) when the
  // connect cannot even start; the caller counts that as a TCP failure.
  static Probe* Start(uv_loop_t* loop, const net::Address& addr, std::string request,
                      uint64_t timeout_ms, Done done, void* owner, int* err);

  // No callback after this; the probe frees itself once its handles close.
  void Cancel();

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

 private:
  Probe() = default;
  ~Probe() = default;

  void Finish(const ProbeResult& r);
  void OnRead(ssize_t nread);
  static void OnClosed(uv_handle_t* h);

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_req_;
  uv_write_t write_req_;
  std::string request_;
  char buf_[128];  // enough for any status line we care about
  size_t got_ = 0;
  int open_handles_ = 0;
  bool finished_ = false;
  Done done_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace sluice::balancer

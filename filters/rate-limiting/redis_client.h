// SPDX-License-Identifier: Apache-2.0
// One worker's connection to Redis over the host's async TCP (tcp_*): pipelined command batches
// whose replies come back in order, AUTH and SELECT on every new connection, a timer per oldest
// batch that enforces redis_timeout, and a reconnect on the next batch after any failure. Never
// blocks the loop. Not thread-safe: lives on its worker (per-worker state of the filter).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/filter.h>

#include "rate-limiting/resp.h"
#include "rate-limiting/schema.h"

namespace sluice::filters::rate_limiting {

class RedisClient {
 public:
  // A batch's completion, run from a loop callback (never inside Send): `ok` with `count`
  // borrowed replies in command order, or not ok with `error` (connect failure, closed
  // connection, timeout, an AUTH/SELECT refusal, a protocol error).
  using Done = void (*)(void* ctx, bool ok, const Reply* replies, size_t count,
                        std::string_view error);

  // `host` is the process-owned table; it must offer tcp_* (timer_* too, for timeouts).
  RedisClient(const sluice_host_api* host, sluice_worker* worker, const RedisOptions& options);
  ~RedisClient();  // closes the connection; pending batches are dropped without their Done

  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends `count` RESP-encoded commands as one write, connecting first when needed. Returns a
  // ticket for Cancel, or 0 when no connection could even be started (Done will not run).
  uint64_t Send(std::string_view commands, size_t count, Done done, void* ctx);

  // Forgets a batch's Done (its request ended); its replies are still read and dropped.
  void Cancel(uint64_t ticket);

  size_t in_flight() const { return batches_.size(); }

 private:
  struct Batch {
    uint64_t id = 0;
    size_t count = 0;
    Done done = nullptr;
    void* ctx = nullptr;
    uint64_t deadline_ms = 0;
    std::vector<Reply> replies;
  };

  static void OnConnect(void* self, sluice_tcp* tcp, sluice_status result);
  static void OnRead(void* self, sluice_tcp* tcp, sluice_str data);
  static void OnClose(void* self, sluice_tcp* tcp, sluice_status reason);
  static void OnTimer(void* self);

  bool Connect();
  void Close();
  void FailAll(std::string_view error);
  void ArmTimer();
  void Log(sluice_log_level level, std::string_view message) const;

  const sluice_host_api* host_;
  sluice_worker* worker_;
  RedisOptions options_;
  sluice_tcp* tcp_ = nullptr;
  std::unique_ptr<ReplyReader> reader_;
  size_t setup_replies_ = 0;  // AUTH/SELECT replies still to come on this connection
  std::deque<Batch> batches_;
  uint64_t next_id_ = 1;
  sluice_timer* timer_ = nullptr;
  bool down_ = false;  // logged as down: log again only once it came back
};

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
// Per-worker keep-alive pool of upstream TCP connections, keyed by target address. Idle
// connections keep a read armed so an upstream close is seen at once and the connection is
// never handed out afterwards.
#pragma once

#include <cstdint>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include <uv.h>

#include "core/net/address.h"

namespace sluice::upstream {

class Pool;

// Compact, hashable form of a target address.
struct PoolKey {
  uint8_t family = 0;
  uint16_t port = 0;
  uint8_t ip[16] = {};

  static PoolKey From(const net::Address& a);

  bool operator==(const PoolKey& o) const {
    return family == o.family && port == o.port && std::memcmp(ip, o.ip, 16) == 0;
  }

  template <typename H>
  friend H AbslHashValue(H h, const PoolKey& k) {
    return H::combine(std::move(h), k.family, k.port,
                      absl::string_view(reinterpret_cast<const char*>(k.ip), 16));
  }
};

// Called once when a connect finishes: status 0 or a libuv error. Not called if the connection
// was closed (Pool::Close) before the connect finished.
using ConnectCallback = void (*)(void* owner, int status);

// One upstream TCP connection. Owned by the pool while idle, by one exchange while busy; the
// busy owner may set tcp.data and arm reads/writes, and must hand it back through Release or
// Close.
struct Connection {
  uv_tcp_t tcp;
  Pool* pool = nullptr;
  PoolKey key;
  bool reused = false;  // served a request before
  bool idle = false;
  bool reading = false;
  uint64_t idle_since_ms = 0;
  Connection* prev = nullptr;  // idle list links
  Connection* next = nullptr;
  uv_connect_t connect_req;
  ConnectCallback on_connect = nullptr;
  void* owner = nullptr;
};

// Reads `c` with these callbacks from now on. An active read is re-pointed rather than stopped
// and restarted: libuv pays two epoll_ctl calls for every stop/start pair.
void ReadWith(Connection* c, uv_alloc_cb alloc, uv_read_cb read);

void StopReads(Connection* c);

// Not thread-safe: one pool per worker loop.
class Pool {
 public:
  Pool(uv_loop_t* loop, size_t max_idle_per_key, uint64_t idle_timeout_ms);
  ~Pool();

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An idle, live connection to `addr`, most recently used first; nullptr when none. Its read
  // stays armed (with the pool's callbacks) until the new owner calls ReadWith.
  Connection* AcquireIdle(const net::Address& addr);

  // Starts a new connection; `cb(owner, status)` runs when it completes. Returns nullptr (and
  // sets *err) when the connect cannot even start.
  Connection* Connect(const net::Address& addr, ConnectCallback cb, void* owner, int* err);

  // Gives back a healthy connection whose response was read completely.
  void Release(Connection* c);

  // Closes a connection (broken, not reusable, or a cancelled connect).
  void Close(Connection* c);

  // Closes every idle connection and stops the sweep timer (worker shutdown).
  void Shutdown();

 private:
  struct IdleList {
    Connection* head = nullptr;  // most recent
    Connection* tail = nullptr;
    size_t size = 0;
  };

  void Unlink(Connection* c);
  void Sweep();

  uv_loop_t* loop_;
  size_t max_idle_per_key_;
  uint64_t idle_timeout_ms_;
  absl::flat_hash_map<PoolKey, IdleList> idle_;
  uv_timer_t* sweep_timer_ = nullptr;
};

}  // namespace sluice::upstream

// SPDX-License-Identifier: Apache-2.0
// Asynchronous name resolution on a libuv loop with c-ares. Unlike getaddrinfo, c-ares reports
// each record's TTL, so hostname targets are re-resolved when their records expire, and a
// lookup never occupies a thread: c-ares' sockets are watched by the loop itself.
#pragma once

#include <ares.h>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include <uv.h>

#include "core/loop/uv_ptr.h"
#include "core/net/address.h"

namespace sluice::net {

struct ResolverOptions {
  // Name servers "IP[:PORT]" separated by commas (Kong's dns_resolver); empty: the system's
  // (/etc/resolv.conf). /etc/hosts is read first either way.
  std::string servers;
  uint64_t timeout_ms = 2000;  // per try and server
  int tries = 2;
};

struct Resolution {
  int status = 0;  // 0, or a libuv error (UV_EAI_*), so uv_strerror names it
  // The name's IPv4 addresses, or its IPv6 ones when it has no IPv4 (A is asked first and
  // AAAA only then, Kong's order), sorted and without duplicates, so a server that rotates its
  // records does not look like a change.
  std::vector<Address> addresses;
  uint32_t ttl_s = 0;  // the lowest TTL of the answer; 0 when none came (hosts file)
};

class Resolver {
 public:
  // Called once per lookup on the loop thread: with the answer, or with UV_EAI_CANCELED when
  // the resolver is destroyed first. Never after Cancel. May run before Resolve returns (an
  // /etc/hosts answer); Resolve then returns nullptr.
  using Done = void (*)(void* owner, const Resolution& r);
  struct Lookup;

  static absl::StatusOr<std::unique_ptr<Resolver>> Create(uv_loop_t* loop,
                                                          const ResolverOptions& options);
  // Completes the lookups in flight (UV_EAI_CANCELED). Run the loop afterwards so the
  // resolver's handles finish closing.
  ~Resolver();

  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Resolves `host` and sets `port` on the answer. Returns a handle for Cancel, or nullptr
  // when `done` already ran.
  Lookup* Resolve(const std::string& host, int port, Done done, void* owner);

  // `done` will not be called for `lookup` (which must not have completed).
  static void Cancel(Lookup* lookup);

 private:
  explicit Resolver(uv_loop_t* loop) : loop_(loop) {}

  static void OnSockState(void* data, ares_socket_t fd, int readable, int writable);
  void Query(Lookup* l);
  static void OnAnswer(void* arg, int status, int timeouts, ares_addrinfo* res);
  void ArmTimer();

  uv_loop_t* loop_;
  ares_channel channel_ = nullptr;
  loop::UvPtr<uv_timer_t> timer_;
  absl::flat_hash_map<ares_socket_t, uv_poll_t*> polls_;
  bool destroying_ = false;
};

}  // namespace sluice::net

// SPDX-License-Identifier: Apache-2.0
// Name resolution for hostname targets. getaddrinfo reports no TTL, so the health checker
// re-resolves on a fixed interval instead of honouring the record's TTL.
#pragma once

#include <netdb.h>
#include <string>

#include "core/net/address.h"

namespace sluice::balancer {

// The first address of `res` with `port` set; false when `res` holds no IPv4/IPv6 address.
bool FirstAddress(const addrinfo* res, int port, net::Address* out);

// Resolves `host` now, blocking the calling thread (control plane only). Returns 0, or a
// libuv error code (UV_EAI_*), so the same code path and messages (uv_strerror) serve both
// this and the asynchronous refresh.
int ResolveNow(const std::string& host, int port, net::Address* out);

}  // namespace sluice::balancer

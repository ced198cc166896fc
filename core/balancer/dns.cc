// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/dns.h"

#include <cstring>

#include <uv.h>

namespace sluice::balancer {

bool FirstAddress(const addrinfo* res, int port, net::Address* out) {
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
      continue;
    *out = net::Address();
    std::memcpy(&out->storage, ai->ai_addr, ai->ai_addrlen);
    out->len = ai->ai_addrlen;
    const uint16_t p = htons(static_cast<uint16_t>(port));
    if (ai->ai_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&out->storage)->sin6_port = p;
    } else {
      reinterpret_cast<sockaddr_in*>(&out->storage)->sin_port = p;
    }
    return true;
  }
  return false;
}

int ResolveNow(const std::string& host, int port, net::Address* out) {
  if (net::ParseNumeric(host, port, out))
    return 0;
  // A private loop: libuv's synchronous getaddrinfo (no callback) still registers the request
  // with a loop, and no other thread's loop may be touched from here.
  uv_loop_t loop;
  if (int rc = uv_loop_init(&loop); rc != 0)
    return rc;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(&loop, &req, nullptr, host.c_str(), nullptr, &hints);
  if (rc == 0) {
    if (!FirstAddress(req.addrinfo, port, out))
      rc = UV_EAI_NODATA;
    uv_freeaddrinfo(req.addrinfo);
  }
  uv_loop_close(&loop);
  return rc;
}

}  // namespace sluice::balancer

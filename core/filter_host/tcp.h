// SPDX-License-Identifier: Apache-2.0
// Host side of the ABI's async TCP (tcp_connect / tcp_write / tcp_close): outbound connections
// a filter makes on its worker's libuv loop, e.g. to Redis. Names resolve with uv_getaddrinfo
// (never blocking) and every address is tried in turn; bytes written before the connection is up
// are queued and leave first once it is. Callbacks follow filter.h exactly: none after
// tcp_close, none after on_close or a failed on_connect, and never from inside a tcp_* call.
#pragma once

#include <cstdint>

#include <sluice/filter.h>

namespace sluice::filter_host {

// sluice_host_api::tcp_connect. `worker` is a WorkerHost*; must run on that worker's thread
// (else SLUICE_ERR_WRONG_THREAD).
sluice_status TcpConnect(sluice_worker* worker, sluice_str host, uint16_t port,
                         const sluice_tcp_callbacks* callbacks, void* user_data, sluice_tcp** out);

// sluice_host_api::tcp_write.
sluice_status TcpWrite(sluice_tcp* tcp, sluice_str data);

// sluice_host_api::tcp_close.
sluice_status TcpClose(sluice_tcp* tcp);

}  // namespace sluice::filter_host

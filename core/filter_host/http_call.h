// SPDX-License-Identifier: Apache-2.0
// Host side of the ABI's http_call / http_call_cancel: one HTTP/1.1 request from a filter to a
// configured service, on its worker's libuv loop (what JWKS fetching or aggregation needs). The
// worker's service lookup (WorkerHost::SetServiceLookup, installed by the proxy) names the
// address, Host header and default timeout; each call opens its own connection (no DNS: service
// addresses are resolved at config time), writes the request, parses the response with llhttp
// and hands the whole response to the filter's done function. One deadline covers connect, write
// and read. Callbacks follow filter.h: done runs exactly once, on a later loop turn than
// http_call, unless the call was cancelled; a stopping worker abandons its calls silently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"

#include <sluice/filter.h>

#include "core/net/address.h"

namespace sluice::filter_host {

// Where http_call sends a request for one service name.
struct ServiceEndpoint {
  net::Address address;
  std::string host_header;      // the Host field: "host" or "host:port"
  uint64_t timeout_ms = 60000;  // when the request sets none (the service's read timeout)
};

// Maps a service name to its endpoint; false for a name the config does not have (the call then
// fails with SLUICE_ERR_NOT_FOUND). Called on the worker's thread only, once per http_call.
using ServiceLookup = std::function<bool(absl::string_view name, ServiceEndpoint* out)>;

// Host limits of one call: a response over them fails with SLUICE_ERR_LIMIT.
inline constexpr size_t kHttpCallMaxBody = size_t{8} << 20;  // decoded body bytes
inline constexpr size_t kHttpCallMaxHead = 64 * 1024;        // header names and values
// The timeout when neither the request nor the service gives one.
inline constexpr uint64_t kHttpCallDefaultTimeoutMs = 60000;

// One call in flight (defined in http_call.cc); sluice_http_call* points at it.
struct HttpCall;

// sluice_host_api::http_call. `worker` is a WorkerHost*; must run on that worker's thread (else
// SLUICE_ERR_WRONG_THREAD). Copies everything it needs from `request` before returning.
sluice_status StartHttpCall(sluice_worker* worker, const sluice_http_request* request,
                            sluice_http_done_fn done, void* user_data, sluice_http_call** out);

// sluice_host_api::http_call_cancel. A no-op (SLUICE_OK) inside the call's done function.
sluice_status CancelHttpCall(sluice_http_call* call);

// Ends a call without running its done function and frees it once libuv let go of its
// handles: for ~WorkerHost, whose loop must run afterwards. The worker must no longer track it.
void AbandonHttpCall(HttpCall* call);

}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
// The rate-limiting hooks on the C ABI: per-worker state (the Redis connection), per-request
// state (a paused Redis round trip and the headers to add), the decision in
// on_request_headers and the headers in on_response_headers. Reads only `const Config&`.
#pragma once

#include <sluice/filter.h>

namespace sluice::filters::rate_limiting {

// The host table from the entry symbol; process-owned.
void SetHost(const sluice_host_api* host);

sluice_status OnConfigNew(sluice_instance* instance, sluice_str json, void** out);
void OnConfigDestroy(void* config);
sluice_status OnWorkerNew(void* config, sluice_worker* worker, void** out);
void OnWorkerDestroy(void* config, void* worker_state);
sluice_status OnRequestNew(sluice_request* req, void* config, void* worker_state, void** out);
void OnRequestDestroy(sluice_request* req, void* config, void* request_state);
sluice_action OnRequestHeaders(sluice_request* req, void* config, void* request_state, bool eos);
sluice_action OnResponseHeaders(sluice_request* req, void* config, void* request_state, bool eos);

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
// The exported descriptor of rate-limiting.so: wiring only (Kong's name and priority 910).
#include <sluice/filter.h>

#include "rate-limiting/handler.h"

namespace {

namespace rl = sluice::filters::rate_limiting;

const sluice_filter_descriptor* Describe() {
  static const sluice_filter_descriptor desc = [] {
    sluice_filter_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_major = SLUICE_ABI_VERSION_MAJOR;
    d.abi_minor = SLUICE_ABI_VERSION_MINOR;
    d.name = {"rate-limiting", 13};
    d.version = {"1.0.0", 5};
    d.priority = 910;
    d.on_config_new = &rl::OnConfigNew;
    d.on_config_destroy = &rl::OnConfigDestroy;
    d.on_worker_new = &rl::OnWorkerNew;
    d.on_worker_destroy = &rl::OnWorkerDestroy;
    d.on_request_new = &rl::OnRequestNew;
    d.on_request_destroy = &rl::OnRequestDestroy;
    d.on_request_headers = &rl::OnRequestHeaders;
    d.on_response_headers = &rl::OnResponseHeaders;
    return d;
  }();
  return &desc;
}

}  // namespace

extern "C" SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1(
    const sluice_host_api* host) {
  rl::SetHost(host);
  return Describe();
}

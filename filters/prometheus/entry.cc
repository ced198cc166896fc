// SPDX-License-Identifier: Apache-2.0
// The exported entry of prometheus.so; wiring only.
#include <sluice/filter.h>

#include "handler.h"

extern "C" SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1(
    const sluice_host_api* host) {
  return sluice::filters::prometheus::Describe(host);
}

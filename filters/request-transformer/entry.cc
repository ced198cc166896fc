// SPDX-License-Identifier: Apache-2.0
// The exported descriptor of request-transformer.so: Kong's name and priority, nothing else.
#include <sluice/filter.hpp>

#include "handler.h"

SLUICE_FILTER(sluice::filters::request_transformer::RequestTransformer, "request-transformer", 801,
              "1.0.0")

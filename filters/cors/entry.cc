// SPDX-License-Identifier: Apache-2.0
// The exported descriptor of cors.so: Kong's name and priority, nothing else.
#include <sluice/filter.hpp>

#include "handler.h"

SLUICE_FILTER(sluice::filters::cors::Cors, "cors", 2000, "1.0.0")

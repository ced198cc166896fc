// SPDX-License-Identifier: Apache-2.0
// Packs the route priority fields into one comparable integer.
#include "core/router/priority.h"

#include <algorithm>

namespace sluice::router {

uint64_t PriorityKey(const PriorityInputs& in) {
  constexpr uint64_t kMaxHeaders = 255;
  constexpr uint64_t kLengthMask = 0x7FFFF;
  uint64_t weight = static_cast<uint64_t>(std::clamp(in.match_weight, 0, 7));
  uint64_t headers = std::min<uint64_t>(in.header_count, kMaxHeaders);
  uint64_t key = weight << 61;
  if (in.plain_hosts_only) {
    key |= uint64_t{1} << 60;
  }
  key |= headers << 52;
  if (in.regex) {
    key |= uint64_t{1} << 51;
    // Flipping the sign bit maps INT_MIN..INT_MAX onto 0..2^32-1 in order.
    uint32_t biased = static_cast<uint32_t>(in.regex_priority) ^ 0x80000000u;
    key |= static_cast<uint64_t>(biased) << 19;
  }
  key |= std::min<uint64_t>(in.prefix_length, kLengthMask);
  return key;
}

}  // namespace sluice::router

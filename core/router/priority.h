// SPDX-License-Identifier: Apache-2.0
// The 64-bit priority of a (sub-)route, laid out as Kong's traditional_compatible router does
// (reference/kong.md §2.3): a higher key wins.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::router {

// What decides a sub-route's rank. A route whose paths differ in kind or prefix length is split
// into one sub-route per group of paths; each group gets its own PriorityInputs.
struct PriorityInputs {
  int match_weight = 0;           // one per set attribute: methods, hosts, headers, paths
  bool plain_hosts_only = false;  // hosts set and none has a '*' wildcard
  size_t header_count = 0;        // number of header names; capped at 255
  bool regex = false;             // the group holds regex or template paths
  int regex_priority = 0;         // counts only when `regex`
  size_t prefix_length = 0;       // the group's prefix length (prefix groups); capped at 2^19-1
};

// Packs `in` into a key, most significant first:
//   bits 61-63 match weight | bit 60 plain-hosts-only | bits 52-59 header count |
//   bit 51 regex | bits 19-50 regex_priority | bits 0-18 prefix length.
// Kong shifts regex_priority in as an unsigned value, so a negative one corrupts the higher
// fields; here it is stored with its sign bit flipped, which keeps every int in order.
uint64_t PriorityKey(const PriorityInputs& in);

}  // namespace sluice::router

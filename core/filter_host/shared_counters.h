// SPDX-License-Identifier: Apache-2.0
// Counters shared by every worker, with expiry (host side of shared_counter_add): local rate
// limiting counts requests per window here. Sharded by key hash so workers rarely contend;
// expired entries are dropped lazily on access and swept when a shard fills up.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace sluice::filter_host {

class SharedCounters {
 public:
  // Adds `delta` to `key` as seen at `now_ms` (a monotonic clock), creating the counter at 0
  // with expiry now_ms + ttl_ms (ttl 0: never) when absent or expired. Returns false when the
  // key's shard is full of live counters.
  bool Add(absl::string_view key, int64_t delta, uint64_t ttl_ms, uint64_t now_ms,
           int64_t* out_value);

  // Milliseconds of a monotonic clock, as Add expects.
  static uint64_t NowMs();

  static constexpr size_t kShards = 64;
  static constexpr size_t kMaxPerShard = 1 << 16;

 private:
  struct Entry {
    int64_t value = 0;
    uint64_t expires_ms = 0;  // 0: never
  };

  struct alignas(64) Shard {
    absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> map ABSL_GUARDED_BY(mu);
  };

  Shard shards_[kShards];
};

}  // namespace sluice::filter_host

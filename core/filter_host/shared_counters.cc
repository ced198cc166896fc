// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/shared_counters.h"

#include <chrono>

#include "absl/hash/hash.h"

namespace sluice::filter_host {

uint64_t SharedCounters::NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

bool SharedCounters::Add(absl::string_view key, int64_t delta, uint64_t ttl_ms, uint64_t now_ms,
                         int64_t* out_value) {
  Shard& shard = shards_[absl::HashOf(key) % kShards];
  absl::MutexLock lock(&shard.mu);
  auto it = shard.map.find(key);
  if (it != shard.map.end() && it->second.expires_ms != 0 && it->second.expires_ms <= now_ms) {
    it->second = Entry{0, ttl_ms == 0 ? 0 : now_ms + ttl_ms};
  }
  if (it == shard.map.end()) {
    if (shard.map.size() >= kMaxPerShard) {
      absl::erase_if(shard.map, [now_ms](const auto& kv) {
        return kv.second.expires_ms != 0 && kv.second.expires_ms <= now_ms;
      });
      if (shard.map.size() >= kMaxPerShard)
        return false;
    }
    it = shard.map.emplace(std::string(key), Entry{0, ttl_ms == 0 ? 0 : now_ms + ttl_ms}).first;
  }
  it->second.value += delta;
  if (out_value != nullptr)
    *out_value = it->second.value;
  return true;
}

}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
// Counters a worker updates on its own cache line and the admin thread sums on scrape: no lock
// and no shared cache line on the request path.
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice {

struct alignas(64) WorkerStats {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<int64_t> connections_active{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_by_class[6] = {};  // index status/100; 0 = no response
  std::atomic<uint64_t> upstream_connect_failures{0};
  std::atomic<uint64_t> upstream_timeouts{0};
  std::atomic<uint64_t> upstream_connections_opened{0};

  // Single writer (the worker), so a relaxed load+store is enough and avoids a locked add.
  static void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  static void Add(std::atomic<int64_t>& c, int64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

}  // namespace sluice

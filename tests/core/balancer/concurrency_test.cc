// SPDX-License-Identifier: Apache-2.0
// Two workers picking and reporting against the same shared target state, with the admin
// reading at the same time. Under TSan this must be silent (all shared state is atomic); here
// it checks that the bookkeeping balances.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/balancer/health_report.h"
#include "core/balancer/picker.h"
#include "core/common/log.h"
#include "tests/core/balancer/fixtures.h"

namespace sluice::balancer {
namespace {

using testing::Make;
using testing::MakeConfig;

TEST_CASE("balancer: two workers pick and report concurrently", "[balancer]") {
  // Breakers and health flap thousands of times here; their warnings would drown the output.
  log::SetLevel(log::Level::kError);
  for (const char* algorithm :
       {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
    INFO(algorithm);
    auto cfg = MakeConfig(algorithm, {100, 200, 300});
    cfg.healthchecks.passive.unhealthy.http_failures = 3;
    cfg.healthchecks.passive.healthy.successes = 1;
    UpstreamOptions opts;
    opts.breaker.enabled = true;
    opts.breaker.failure_threshold = 2;
    opts.breaker.open_timeout_ms = 5;
    auto up = Make(cfg, opts);
    std::atomic<bool> stop{false};
    std::atomic<int> picked{0};
    std::atomic<int> bad_reports{0};

    auto worker = [&](int seed) {
      Picker p(*up);
      std::vector<Selection> held;
      for (int k = 0; k < 10000; ++k) {
        const uint64_t now = static_cast<uint64_t>(k / 10);
        Selection sel = p.Pick({}, now);
        if (!sel) {
          // Everything is down for now: heal one target as an active check would.
          up->RecordActive(static_cast<size_t>(k % 3), HealthEvent::kSuccess, 200);
          up->SetHealthy(static_cast<size_t>(k % 3), true);
          continue;
        }
        picked.fetch_add(1, std::memory_order_relaxed);
        held.push_back(sel);
        if (held.size() < 4)
          continue;  // keep a few in flight so least-connections sees real counts
        const int status = (k + seed) % 7 == 0 ? 500 : 200;
        for (const Selection& s : held)
          up->Report(s, {Result::Kind::kResponse, status, static_cast<uint64_t>(100 + k % 50)},
                     now);
        held.clear();
      }
      for (const Selection& s : held)
        up->Report(s, {Result::Kind::kCancelled, 0, 0}, 2000);
    };
    std::thread reader([&] {
      // Catch2 assertions are not thread-safe: count here, check after the join.
      while (!stop.load()) {
        bad_reports += ReportHealth(*up).size() != 3;
        std::this_thread::yield();
      }
    });
    std::thread a(worker, 1);
    std::thread b(worker, 4);
    a.join();
    b.join();
    stop.store(true);
    reader.join();

    CHECK(picked.load() > 0);
    CHECK(bad_reports.load() == 0);
    for (size_t i = 0; i < up->size(); ++i)
      CHECK(up->state(i).in_flight.load() == 0);
  }
  log::SetLevel(log::Level::kInfo);
}

TEST_CASE("balancer: an address read while DNS rewrites it is never torn", "[balancer]") {
  AddressCell cell;
  net::Address v4;
  net::Address v6;
  REQUIRE(net::ParseNumeric("10.1.2.3", 80, &v4));
  REQUIRE(net::ParseNumeric("2001:db8::1", 8080, &v6));
  cell.Store(v4);
  // The writer rewrites until the reader is done, and the reader goes on until it has seen 20000
  // writes land during its reads (bounded by a deadline), so the two overlap however the
  // scheduler runs them: on a loaded machine under ASan a fixed-count writer may finish before
  // the reader's first load.
  std::atomic<bool> stop{false};
  std::atomic<long> writes{0};
  std::thread writer([&] {
    for (int k = 0; !stop.load(std::memory_order_relaxed); ++k) {
      cell.Store(k % 2 ? v6 : v4);
      writes.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (writes.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  const long writes_before = writes.load();
  long reads = 0;
  bool torn = false;
  while ((reads < 20000 || writes.load() - writes_before < 20000) &&
         std::chrono::steady_clock::now() < deadline) {
    net::Address got;
    REQUIRE(cell.Load(&got));
    const std::string s = got.ToString();
    torn |= s != "10.1.2.3:80" && s != "[2001:db8::1]:8080";
    ++reads;
  }
  const long overlapped = writes.load() - writes_before;
  stop.store(true);
  writer.join();
  CHECK_FALSE(torn);
  CHECK(reads >= 20000);
  CHECK(overlapped >= 20000);
}

}  // namespace
}  // namespace sluice::balancer

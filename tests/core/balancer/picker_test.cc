// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/picker.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/http/header_map.h"
#include "tests/core/balancer/fixtures.h"

namespace sluice::balancer {
namespace {

using testing::Make;
using testing::MakeConfig;
using testing::Shares;

constexpr int kPicks = 10000;

// Expected share of each target: its weight over the total.
std::vector<double> Expected(const std::vector<int>& weights) {
  double total = 0;
  for (int w : weights)
    total += w;
  std::vector<double> out;
  for (int w : weights)
    out.push_back(w / total);
  return out;
}

void CheckShares(const std::vector<double>& got, const std::vector<int>& weights) {
  const auto want = Expected(weights);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("target " << i << " weight " << weights[i]);
    CHECK(got[i] == Approx(want[i]).margin(0.03));
  }
}

TEST_CASE("balancer: every algorithm matches the weights over 10000 picks", "[balancer]") {
  const std::vector<int> weights = {100, 200, 300, 0, 400};

  SECTION("round-robin") {
    auto up = Make(MakeConfig("round-robin", weights));
    Picker p(*up);
    CheckShares(Shares(*up, p, kPicks), weights);
  }
  SECTION("latency (equal latencies)") {
    auto up = Make(MakeConfig("latency", weights));
    Picker p(*up);
    CheckShares(Shares(*up, p, kPicks), weights);
  }
  SECTION("least-connections (requests held open)") {
    auto up = Make(MakeConfig("least-connections", weights));
    Picker p(*up);
    std::vector<int> counts(weights.size(), 0);
    std::vector<Selection> held;
    for (int k = 0; k < kPicks; ++k) {
      Selection sel = p.Pick({}, 1000);
      REQUIRE(sel);
      ++counts[static_cast<size_t>(sel.index)];
      held.push_back(sel);
    }
    std::vector<double> shares;
    for (int c : counts)
      shares.push_back(static_cast<double>(c) / kPicks);
    CheckShares(shares, weights);
    for (const Selection& sel : held)
      up->Report(sel, {Result::Kind::kResponse, 200, 0}, 1000);
    for (size_t i = 0; i < up->size(); ++i)
      CHECK(up->state(i).in_flight.load() == 0);
  }
  SECTION("consistent-hashing (distinct keys)") {
    auto up = Make(MakeConfig("consistent-hashing", weights));
    Picker p(*up);
    std::vector<int> counts(weights.size(), 0);
    http::HeaderMap headers;
    std::vector<std::string> keys;
    for (int k = 0; k < kPicks; ++k)
      keys.push_back("user-" + std::to_string(k));
    for (const std::string& key : keys) {
      headers.Clear();
      headers.Add("X-User", key);
      RequestFacts facts;
      facts.headers = &headers;
      Selection sel = p.Pick(facts, 1000);
      REQUIRE(sel);
      ++counts[static_cast<size_t>(sel.index)];
      up->Report(sel, {Result::Kind::kResponse, 200, 0}, 1000);
    }
    std::vector<double> shares;
    for (int c : counts)
      shares.push_back(static_cast<double>(c) / kPicks);
    CheckShares(shares, weights);
  }
}

TEST_CASE("balancer: weight 0 is never picked", "[balancer]") {
  for (const char* algorithm :
       {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
    INFO(algorithm);
    auto up = Make(MakeConfig(algorithm, {0, 100, 0}));
    Picker p(*up);
    auto shares = Shares(*up, p, 1000);
    CHECK(shares[0] == 0);
    CHECK(shares[1] == 1);
    CHECK(shares[2] == 0);
  }
}

TEST_CASE("balancer: round-robin interleaves instead of bursting", "[balancer]") {
  auto up = Make(MakeConfig("round-robin", {500, 100, 100}));
  Picker p(*up);
  std::string order;
  for (int k = 0; k < 7; ++k) {
    Selection sel = p.Pick({}, 0);
    order.push_back(static_cast<char>('a' + sel.index));
    up->Report(sel, {}, 0);
  }
  CHECK(order == "aabacaa");  // nginx's smooth sequence for 5:1:1
}

TEST_CASE("balancer: least-connections favours the target with fewer in flight", "[balancer]") {
  auto up = Make(MakeConfig("least-connections", {100, 100}));
  Picker p(*up);
  up->state(0).in_flight.store(5);  // five requests from other workers
  for (int k = 0; k < 4; ++k) {
    Selection sel = p.Pick({}, 0);
    CHECK(sel.index == 1);  // 1..4 in flight on target 1, still fewer than 5
  }
  up->state(0).in_flight.store(0);
  up->state(1).in_flight.store(0);
}

TEST_CASE("balancer: consistent hashing keeps a key on one target and remaps ~1/N", "[balancer]") {
  std::vector<int> ten(10, 100);
  auto cfg = MakeConfig("consistent-hashing", ten);
  auto before = Make(cfg);
  Picker p(*before);
  http::HeaderMap headers;
  auto owner = [&](Picker& picker, const std::string& key) {
    headers.Clear();
    headers.Add("x-user", key);
    RequestFacts facts;
    facts.headers = &headers;
    Selection sel = picker.Pick(facts, 0);
    picker.upstream().Report(sel, {}, 0);
    return sel.index;
  };

  SECTION("the same key always lands on the same target") {
    const int first = owner(p, "alice");
    for (int k = 0; k < 100; ++k)
      CHECK(owner(p, "alice") == first);
  }

  SECTION("removing 1 of 10 targets moves only its keys, about a tenth") {
    auto smaller = cfg;
    smaller.targets.erase(smaller.targets.begin() + 3);  // 10.0.0.4 leaves
    auto after = Make(smaller);
    Picker q(*after);
    constexpr int kKeys = 10000;
    int moved = 0;
    int moved_elsewhere = 0;
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "key-" + std::to_string(k);
      const std::string was = before->target(static_cast<size_t>(owner(p, key))).target;
      const std::string now = after->target(static_cast<size_t>(owner(q, key))).target;
      if (was != now) {
        ++moved;
        if (was != "10.0.0.4:80")
          ++moved_elsewhere;
      }
    }
    CHECK(moved_elsewhere == 0);
    CHECK(moved > kKeys * 0.07);
    CHECK(moved < kKeys * 0.13);
  }

  SECTION("an unhealthy owner hands its keys to others, and gets them back") {
    cfg.healthchecks.passive.unhealthy.http_failures = 1;
    auto up = Make(cfg);
    Picker r(*up);
    const int first = owner(r, "bob");
    up->SetHealthy(static_cast<size_t>(first), false);
    const int second = owner(r, "bob");
    CHECK(second != first);
    CHECK(owner(r, "bob") == second);
    up->SetHealthy(static_cast<size_t>(first), true);
    CHECK(owner(r, "bob") == first);
  }
}

TEST_CASE("balancer: peak-EWMA prefers the faster target", "[balancer]") {
  auto up = Make(MakeConfig("latency", {100, 100}));
  Picker p(*up);
  // Warm both up: target 0 answers in 1 ms, target 1 in 20 ms.
  uint64_t now = 1000;
  auto latency = [](int index) { return index == 0 ? 1000u : 20000u; };
  for (int k = 0; k < 20; ++k) {
    Selection sel = p.Pick({}, now);
    up->Report(sel, {Result::Kind::kResponse, 200, latency(sel.index)}, now);
  }
  int fast = 0;
  for (int k = 0; k < 1000; ++k, ++now) {
    Selection sel = p.Pick({}, now);
    fast += sel.index == 0;
    up->Report(sel, {Result::Kind::kResponse, 200, latency(sel.index)}, now);
  }
  CHECK(fast > 900);

  SECTION("a slow peak takes over at once") {
    Selection sel{0, false};
    up->state(0).in_flight.fetch_add(1);
    up->Report(sel, {Result::Kind::kResponse, 200, 50000}, now);
    CHECK(up->state(0).latency.Cost(now, 10000) == Approx(50000));
  }
}

TEST_CASE("balancer: pick returns none when every target is down", "[balancer]") {
  for (const char* algorithm :
       {"round-robin", "least-connections", "consistent-hashing", "latency"}) {
    INFO(algorithm);
    auto cfg = MakeConfig(algorithm, {100, 100, 100});
    cfg.healthchecks.passive.unhealthy.tcp_failures = 1;
    auto up = Make(cfg);
    Picker p(*up);
    for (size_t i = 0; i < up->size(); ++i) {
      Selection sel{static_cast<int>(i), false};
      up->state(i).in_flight.fetch_add(1);
      up->Report(sel, {Result::Kind::kConnectFailure, 0, 0}, 0);
    }
    CHECK_FALSE(p.Pick({}, 0));
    up->SetHealthy(1, true);
    CHECK(p.Pick({}, 0).index == 1);
  }
}

TEST_CASE("balancer: healthchecks off ignores health, threshold fails the upstream", "[balancer]") {
  auto cfg = MakeConfig("round-robin", {100, 100, 100, 100});
  SECTION("off") {
    auto up = Make(cfg);
    up->SetHealthy(0, false);
    Picker p(*up);
    CHECK(Shares(*up, p, 400)[0] == Approx(0.25));
  }
  SECTION("threshold 60 %: one of four down is fine, two are not") {
    cfg.healthchecks.passive.unhealthy.http_failures = 1;
    cfg.healthchecks.threshold = 60;
    auto up = Make(cfg);
    Picker p(*up);
    up->SetHealthy(0, false);
    CHECK(p.Pick({}, 0));
    up->SetHealthy(1, false);
    CHECK_FALSE(p.Pick({}, 0));
  }
}

TEST_CASE("balancer: a retry avoids the target that just failed when it can", "[balancer]") {
  auto up = Make(MakeConfig("consistent-hashing", {100, 100}));
  Picker p(*up);
  http::HeaderMap headers;
  headers.Add("x-user", "carol");
  RequestFacts facts;
  facts.headers = &headers;
  Selection first = p.Pick(facts, 0);
  Selection retry = p.Pick(facts, 0, first.index);
  CHECK(retry.index != first.index);
  CHECK(retry);

  auto single = Make(MakeConfig("round-robin", {100}));
  Picker q(*single);
  CHECK(q.Pick({}, 0, 0).index == 0);  // nothing else: the failed one is still better than 503
}

}  // namespace
}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// Builders shared by the balancer tests: upstream configs with numeric targets, and a pick
// loop that counts where requests went.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "core/balancer/balancer.h"
#include "core/balancer/picker.h"

namespace sluice::balancer::testing {

// An upstream "svc" with one target 10.0.0.<i+1>:80 per weight (never connected to).
inline config::Upstream MakeConfig(const std::string& algorithm, const std::vector<int>& weights) {
  config::Upstream u;
  u.name = "svc";
  u.algorithm = algorithm;
  if (algorithm == "consistent-hashing") {
    u.hash_on = "header";
    u.hash_on_header = "x-user";
  }
  for (size_t i = 0; i < weights.size(); ++i) {
    config::Target t;
    t.host = absl::StrCat("10.0.0.", i + 1);
    t.port = 80;
    t.target = absl::StrCat(t.host, ":", t.port);
    t.weight = weights[i];
    u.targets.push_back(t);
  }
  return u;
}

inline std::shared_ptr<Upstream> Make(const config::Upstream& cfg, UpstreamOptions opts = {},
                                      const Upstream* previous = nullptr) {
  return Upstream::Build(cfg, opts, previous);
}

// Share of picks per target over `n` picks, each reported at once as a 200 in `latency_us`.
inline std::vector<double> Shares(Upstream& up, Picker& picker, int n, uint64_t now_ms = 1000,
                                  uint64_t latency_us = 1000) {
  std::vector<int> counts(up.size(), 0);
  RequestFacts facts;
  for (int k = 0; k < n; ++k) {
    Selection sel = picker.Pick(facts, now_ms);
    if (!sel)
      continue;
    ++counts[static_cast<size_t>(sel.index)];
    up.Report(sel, {Result::Kind::kResponse, 200, latency_us}, now_ms);
  }
  std::vector<double> shares;
  for (int c : counts)
    shares.push_back(static_cast<double>(c) / n);
  return shares;
}

}  // namespace sluice::balancer::testing

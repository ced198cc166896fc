// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/ring.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "core/balancer/hash_key.h"

namespace sluice::balancer {

void Ring::Build(const std::vector<std::string>& names, const std::vector<int>& weights) {
  uint64_t total = 0;
  for (int w : weights)
    total += static_cast<uint64_t>(std::max(w, 0)) * kPointsPerWeight;
  const double scale =
      total > kMaxPoints ? static_cast<double>(kMaxPoints) / static_cast<double>(total) : 1.0;
  std::vector<std::pair<uint64_t, uint32_t>> points;
  points.reserve(std::min(total, kMaxPoints) + names.size());
  for (size_t t = 0; t < names.size(); ++t) {
    if (weights[t] <= 0)
      continue;
    uint64_t count =
        static_cast<uint64_t>(static_cast<double>(weights[t]) * kPointsPerWeight * scale + 0.5);
    count = std::max<uint64_t>(count, 1);
    for (uint64_t j = 0; j < count; ++j)
      points.emplace_back(StableHash64(absl::StrCat(names[t], "#", j)), static_cast<uint32_t>(t));
  }
  // Sorting (hash, owner) pairs keeps the order deterministic even for (vanishingly rare)
  // equal hashes.
  std::sort(points.begin(), points.end());
  hashes_.resize(points.size());
  owners_.resize(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    hashes_[i] = points[i].first;
    owners_[i] = points[i].second;
  }
}

size_t Ring::LowerBound(uint64_t hash) const {
  return static_cast<size_t>(std::lower_bound(hashes_.begin(), hashes_.end(), hash) -
                             hashes_.begin());
}

}  // namespace sluice::balancer

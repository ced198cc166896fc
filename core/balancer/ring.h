// SPDX-License-Identifier: Apache-2.0
// The consistent-hashing ring (ketama style): every target owns points on a 64-bit circle in
// proportion to its weight, and a key belongs to the first point at or after its hash. Each
// target's points depend only on its own name and weight, so removing one of N targets moves
// only the keys it held (~1/N) and no key moves between the targets that stay.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::balancer {

class Ring {
 public:
  // Points per unit of weight: Kong's default weight 100 gives 1000 points, which keeps each
  // target's share of the circle within a few percent of its weight.
  static constexpr uint32_t kPointsPerWeight = 10;
  // Ring size bound; above it every target's count is scaled down by the same factor.
  static constexpr uint64_t kMaxPoints = uint64_t{1} << 20;

  // Builds the ring; names[i] and weights[i] describe target i (weight 0 gets no point).
  void Build(const std::vector<std::string>& names, const std::vector<int>& weights);

  bool empty() const { return hashes_.empty(); }

  size_t size() const { return hashes_.size(); }

  // The owner of the first point at or after `hash` (wrapping) for which ok(owner) holds, so
  // a target that cannot serve hands its keys to its ring successors; -1 when none does.
  // Allocation-free.
  template <typename Ok>
  int Find(uint64_t hash, Ok&& ok) const {
    const size_t n = hashes_.size();
    if (n == 0)
      return -1;
    size_t i = LowerBound(hash);
    for (size_t step = 0; step < n; ++step, ++i) {
      if (i == n)
        i = 0;
      const uint32_t owner = owners_[i];
      if (ok(static_cast<int>(owner)))
        return static_cast<int>(owner);
    }
    return -1;
  }

 private:
  size_t LowerBound(uint64_t hash) const;

  std::vector<uint64_t> hashes_;  // sorted
  std::vector<uint32_t> owners_;  // parallel to hashes_
};

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// A radix tree of literal path prefixes: given a request path it yields every stored prefix of
// that path in O(path length), so prefix routes cost the same whether there are 10 or 10,000.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sluice::router {

// Maps byte-string keys to lists of values of type V. Built once (Insert, then Finish), then
// read-only: ForEachPrefixOf may run on many threads at once. Keys are compared byte for byte.
template <typename V>
class PrefixTrie {
 public:
  PrefixTrie() : nodes_(1) {}

  // Adds `value` under `key` (several values may share a key).
  void Insert(absl::string_view key, V value) {
    uint32_t node = 0;
    size_t pos = 0;
    while (pos < key.size()) {
      auto& children = nodes_[node].children;
      unsigned char c = static_cast<unsigned char>(key[pos]);
      auto it = std::lower_bound(children.begin(), children.end(), c,
                                 [](const Edge& e, unsigned char k) { return e.first < k; });
      if (it == children.end() || it->first != c) {
        uint32_t leaf = static_cast<uint32_t>(nodes_.size());
        children.insert(it, Edge{c, leaf});
        nodes_.emplace_back();
        nodes_[leaf].label = std::string(key.substr(pos));
        nodes_[leaf].values.push_back(std::move(value));
        return;
      }
      uint32_t child = it->second;
      absl::string_view label = nodes_[child].label;
      absl::string_view rest = key.substr(pos);
      size_t common = 0;
      while (common < label.size() && common < rest.size() && label[common] == rest[common]) {
        ++common;
      }
      if (common < label.size()) {
        // Split the edge: a new middle node takes the shared part of the label.
        uint32_t mid = static_cast<uint32_t>(nodes_.size());
        it->second = mid;  // `it` is still valid: nodes_ has not grown yet
        nodes_.emplace_back();
        nodes_[mid].label = nodes_[child].label.substr(0, common);
        nodes_[child].label.erase(0, common);
        nodes_[mid].children.push_back(
            Edge{static_cast<unsigned char>(nodes_[child].label[0]), child});
        child = mid;
      }
      node = child;
      pos += common;
    }
    nodes_[node].values.push_back(std::move(value));
  }

  // Sorts every node's values (by V's operator<) so readers can stop early. Call once after the
  // last Insert.
  void Finish() {
    for (auto& n : nodes_) {
      std::sort(n.values.begin(), n.values.end());
    }
  }

  // Calls fn(prefix_length, values) for every stored key that is a prefix of `s`, shortest
  // first. `values` is a const std::vector<V>&. Does not allocate.
  template <typename Fn>
  void ForEachPrefixOf(absl::string_view s, Fn&& fn) const {
    uint32_t node = 0;
    size_t pos = 0;
    if (!nodes_[0].values.empty()) {
      fn(size_t{0}, nodes_[0].values);
    }
    while (pos < s.size()) {
      const auto& children = nodes_[node].children;
      unsigned char c = static_cast<unsigned char>(s[pos]);
      auto it = std::lower_bound(children.begin(), children.end(), c,
                                 [](const Edge& e, unsigned char k) { return e.first < k; });
      if (it == children.end() || it->first != c) {
        return;
      }
      const Node& child = nodes_[it->second];
      if (s.size() - pos < child.label.size() ||
          s.compare(pos, child.label.size(), child.label) != 0) {
        return;
      }
      pos += child.label.size();
      node = it->second;
      if (!child.values.empty()) {
        fn(pos, child.values);
      }
    }
  }

  bool empty() const { return nodes_.size() == 1 && nodes_[0].values.empty(); }

  size_t node_count() const { return nodes_.size(); }

 private:
  using Edge = std::pair<unsigned char, uint32_t>;

  struct Node {
    std::string label;           // the bytes on the edge into this node
    std::vector<Edge> children;  // sorted by first byte of the child's label
    std::vector<V> values;
  };

  std::vector<Node> nodes_;  // nodes_[0] is the root (empty label)
};

}  // namespace sluice::router

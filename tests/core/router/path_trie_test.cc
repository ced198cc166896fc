// SPDX-License-Identifier: Apache-2.0
// The radix tree of literal prefixes.
#include "core/router/path_trie.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::router {
namespace {

std::vector<std::pair<size_t, std::vector<int>>> Prefixes(const PrefixTrie<int>& t,
                                                          absl::string_view s) {
  std::vector<std::pair<size_t, std::vector<int>>> out;
  t.ForEachPrefixOf(s, [&](size_t len, const std::vector<int>& v) { out.emplace_back(len, v); });
  return out;
}

TEST_CASE("prefix trie: yields every stored prefix, shortest first", "[router]") {
  PrefixTrie<int> t;
  t.Insert("/api/v1", 3);
  t.Insert("/", 1);
  t.Insert("/api", 2);
  t.Insert("/apiary", 4);
  t.Insert("/api", 0);
  t.Insert("/b", 5);
  t.Finish();
  using V = std::vector<std::pair<size_t, std::vector<int>>>;
  CHECK(Prefixes(t, "/api/v1/x") == V{{1, {1}}, {4, {0, 2}}, {7, {3}}});
  CHECK(Prefixes(t, "/apiary") == V{{1, {1}}, {4, {0, 2}}, {7, {4}}});
  CHECK(Prefixes(t, "/apia") == V{{1, {1}}, {4, {0, 2}}});
  CHECK(Prefixes(t, "/ap") == V{{1, {1}}});
  CHECK(Prefixes(t, "/b") == V{{1, {1}}, {2, {5}}});
  CHECK(Prefixes(t, "x") == V{});
  CHECK(Prefixes(t, "") == V{});
}

TEST_CASE("prefix trie: agrees with a brute-force scan", "[router]") {
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) {
    std::string k = "/";
    for (int j = i; j > 0; j /= 3) {
      k.push_back("ab/"[j % 3]);
    }
    keys.push_back(k);
  }
  PrefixTrie<int> t;
  for (size_t i = 0; i < keys.size(); ++i) {
    t.Insert(keys[i], static_cast<int>(i));
  }
  t.Finish();
  for (const std::string& probe : keys) {
    for (const std::string& s : {probe, probe + "a", probe + "/z"}) {
      std::map<size_t, std::vector<int>> want;
      for (size_t i = 0; i < keys.size(); ++i) {
        if (s.compare(0, keys[i].size(), keys[i]) == 0) {
          want[keys[i].size()].push_back(static_cast<int>(i));
        }
      }
      std::map<size_t, std::vector<int>> got;
      t.ForEachPrefixOf(s, [&](size_t len, const std::vector<int>& v) { got[len] = v; });
      INFO(s);
      CHECK(got == want);
    }
  }
}

}  // namespace
}  // namespace sluice::router

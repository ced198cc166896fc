// SPDX-License-Identifier: Apache-2.0
// request-transformer head operations: headers, querystring and replace.uri, each operation
// and their order (reference/kong.md §7.2).
#include "transform.h"

#include <string>
#include <strings.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::filters::request_transformer {
namespace {

// A header map as a list of fields, with the SDK map's semantics (case-insensitive names, set
// replaces every field of a name in place of the first, add appends).
class ListStore : public HeaderStore {
 public:
  std::vector<std::pair<std::string, std::string>> fields;

  bool Has(std::string_view name) const override {
    for (const auto& f : fields) {
      if (Same(f.first, name))
        return true;
    }
    return false;
  }

  std::vector<std::string> Values(std::string_view name) const override {
    std::vector<std::string> out;
    for (const auto& f : fields) {
      if (Same(f.first, name))
        out.push_back(f.second);
    }
    return out;
  }

  void Set(std::string_view name, std::string_view value) override {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (Same(fields[i].first, name)) {
        fields[i] = {std::string(name), std::string(value)};
        for (size_t j = fields.size(); j-- > i + 1;) {
          if (Same(fields[j].first, name))
            fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(j));
        }
        return;
      }
    }
    fields.emplace_back(name, value);
  }

  void Add(std::string_view name, std::string_view value) override {
    fields.emplace_back(name, value);
  }

  void Remove(std::string_view name) override {
    std::erase_if(fields, [name](const auto& f) { return Same(f.first, name); });
  }

  std::vector<std::string> Lines() const {
    std::vector<std::string> out;
    for (const auto& [n, v] : fields)
      out.push_back(n + ": " + v);
    return out;
  }

 private:
  static bool Same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
  }
};

using Lines = std::vector<std::string>;

const RequestSnapshot kNoSource({}, "");

Lines Headers(std::string_view json, ListStore store, const TemplateSource& source = kNoSource) {
  const Config c = ParseConfig(json);
  TransformHeaders(c, source, &store);
  return store.Lines();
}

ListStore Store(std::initializer_list<std::pair<std::string, std::string>> fields) {
  ListStore s;
  s.fields = fields;
  return s;
}

std::optional<std::string> Query(std::string_view json, std::string_view raw,
                                 const TemplateSource& source = kNoSource) {
  return TransformQuery(ParseConfig(json), raw, source);
}

TEST_CASE("request-transformer headers: each operation", "[filters][request-transformer]") {
  const ListStore base = Store({{"Host", "gw.example"}, {"X-A", "1"}, {"X-B", "2"}, {"X-B", "3"}});
  SECTION("remove, case-insensitively; host is never removed") {
    CHECK(Headers(R"({"remove": {"headers": ["x-b", "host", "x-none"]}})", base) ==
          Lines{"Host: gw.example", "X-A: 1"});
  }
  SECTION("rename moves every value and replaces the target") {
    ListStore s = base;
    s.fields.emplace_back("X-C", "old");
    CHECK(Headers(R"({"rename": {"headers": ["x-b:X-C", "x-none:x-d", "host:x-host"]}})", s) ==
          Lines{"Host: gw.example", "X-A: 1", "X-C: 2", "X-C: 3"});
  }
  SECTION("rename to the same name in another case re-cases it") {
    CHECK(Headers(R"({"rename": {"headers": ["x-a:X-a"]}})", base) ==
          Lines{"Host: gw.example", "X-B: 2", "X-B: 3", "X-a: 1"});
  }
  SECTION("replace only when present, except host") {
    CHECK(Headers(R"({"replace": {"headers": ["x-b:new", "x-none:v", "host:up.example"]}})",
                  base) == Lines{"host: up.example", "X-A: 1", "x-b: new"});
  }
  SECTION("add only when absent; never host") {
    CHECK(Headers(R"({"add": {"headers": ["x-a:no", "X-New:yes", "host:h"]}})", base) ==
          Lines{"Host: gw.example", "X-A: 1", "X-B: 2", "X-B: 3", "X-New: yes"});
  }
  SECTION("append always adds a field; for host it sets it") {
    CHECK(Headers(R"({"append": {"headers": ["x-a:more", "x-new:1", "host:h2"]}})", base) ==
          Lines{"host: h2", "X-A: 1", "X-B: 2", "X-B: 3", "x-a: more", "x-new: 1"});
  }
  SECTION("entries without a value change nothing") {
    CHECK(Headers(R"({"replace": {"headers": ["x-a:"]}, "add": {"headers": ["x-z:"]},
                      "append": {"headers": ["x-a:"]}})",
                  base) == base.Lines());
  }
}

TEST_CASE("request-transformer headers: remove, rename, replace, add, append in that order",
          "[filters][request-transformer]") {
  // Written in reverse order in the config: the order of operations does not follow it.
  const char* json = R"({
      "append": {"headers": ["x-ren:appended", "x-gone:back"]},
      "add": {"headers": ["x-ren:added", "x-gone:added"]},
      "replace": {"headers": ["x-ren:replaced", "x-gone:replaced"]},
      "rename": {"headers": ["x-orig:x-ren"]},
      "remove": {"headers": ["x-gone"]}})";
  CHECK(Headers(json, Store({{"X-Orig", "o"}, {"X-Gone", "g"}})) ==
        Lines{"x-ren: replaced", "x-gone: added", "x-ren: appended", "x-gone: back"});
}

TEST_CASE("request-transformer headers: templates read the request as it arrived",
          "[filters][request-transformer]") {
  const RequestSnapshot snap({{"x-user", "alice"}, {"x-none", std::nullopt}}, "page=2&flag");
  const char* json = R"j({
      "remove": {"headers": ["x-user"]},
      "add": {"headers": ["x-who:$(headers.x_user)", "x-page:$(query_params.page)",
                          "x-flag:$(query_params.flag)", "x-d:$(headers.x_none or 'anon')"]}})j";
  CHECK(Headers(json, Store({{"X-User", "alice"}}), snap) ==
        Lines{"x-who: alice", "x-page: 2", "x-flag: true", "x-d: anon"});
}

TEST_CASE("request-transformer querystring: each operation, sorted like Kong's set_query",
          "[filters][request-transformer]") {
  CHECK_FALSE(Query("{}", "b=1&a=2").has_value());  // untouched, not even re-sorted
  CHECK(Query(R"({"remove": {"querystring": ["none"]}})", "b=1&a=2") == "a=2&b=1");
  CHECK(Query(R"({"remove": {"querystring": ["a"]}})", "a=1&b=2&a=3") == "b=2");
  CHECK(Query(R"({"rename": {"querystring": ["a:z", "none:y"]}})", "a=1&b=2&a=3") == "b=2&z=1&z=3");
  CHECK(Query(R"({"replace": {"querystring": ["a:x", "none:y"]}})", "a=1&a=3") == "a=x");
  CHECK(Query(R"({"add": {"querystring": ["a:x", "c:new value"]}})", "a=1") == "a=1&c=new%20value");
  CHECK(Query(R"({"append": {"querystring": ["a:x", "c:y"]}})", "a=1") == "a=1&a=x&c=y");
  CHECK(Query(R"({"remove": {"querystring": ["a"]}})", "a=1").value().empty());
}

TEST_CASE("request-transformer querystring: order and templates",
          "[filters][request-transformer]") {
  const RequestSnapshot snap({{"x-id", "7"}}, "old=1&keep=k");
  const char* json = R"j({
      "append": {"querystring": ["new:appended"]},
      "add": {"querystring": ["new:added", "id:$(headers.x_id)"]},
      "replace": {"querystring": ["new:replaced", "keep:$(query_params.old)"]},
      "rename": {"querystring": ["old:new"]},
      "remove": {"querystring": ["keep"]}})j";
  // remove keep, rename old->new, replace new, add id (new exists), append new.
  CHECK(Query(json, "old=1&keep=k", snap) == "id=7&new=replaced&new=appended");
}

TEST_CASE("request-transformer replace.uri", "[filters][request-transformer]") {
  CHECK_FALSE(TransformUri(ParseConfig("{}"), kNoSource).has_value());
  CHECK(TransformUri(ParseConfig(R"({"replace": {"uri": "/v2/items"}})"), kNoSource) ==
        "/v2/items");
  const RequestSnapshot snap({{"x-id", "a b?c#d"}}, "");
  CHECK(TransformUri(ParseConfig(R"j({"replace": {"uri": "/u/$(headers.x_id)/%41%zz"}})j"), snap) ==
        "/u/a%20b%3Fc%23d/%41%25zz");
  CHECK(TransformUri(ParseConfig(R"j({"replace": {"uri": "$(headers.none)"}})j"), snap) == "");
  CHECK(EscapePath("/caf\xc3\xa9") == "/caf%C3%A9");
}

}  // namespace
}  // namespace sluice::filters::request_transformer

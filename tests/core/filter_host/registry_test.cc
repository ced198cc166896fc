// SPDX-License-Identifier: Apache-2.0
// Which instance of each plugin a request runs (Kong's 8 scopes), in which order (descriptor
// priority), and how a filter's config errors reach the user as file:line:col.
#include "core/filter_host/registry.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/core/filter_host/test_support.h"

namespace sluice::filter_host {
namespace {

using testing::FixturesDir;
using testing::Host;
using testing::LoadConfig;

config::Plugin Scoped(const char* name, int route, int service, int consumer) {
  config::Plugin p;
  p.name = name;
  p.route = route;
  p.service = service;
  p.consumer = consumer;
  return p;
}

std::vector<std::string> Names(const Chain& chain) {
  std::vector<std::string> out;
  for (const Instance* in : chain.filters)
    out.push_back(in->name);
  return out;
}

TEST_CASE("filter_host registry: Kong's eight scopes, most specific first", "[filter_host]") {
  // Route 0 belongs to service 0; the request is authenticated as consumer 0.
  struct Scope {
    int route, service, consumer, rank;
    const char* what;
  };

  const std::vector<Scope> table = {
      {0, 0, 0, 1, "route + service + consumer"},
      {0, -1, 0, 2, "route + consumer"},
      {-1, 0, 0, 3, "service + consumer"},
      {0, 0, -1, 4, "route + service"},
      {-1, -1, 0, 5, "consumer"},
      {0, -1, -1, 6, "route"},
      {-1, 0, -1, 7, "service"},
      {-1, -1, -1, 8, "global"},
  };
  for (size_t first = 0; first < table.size(); ++first) {
    // Instances at this scope and every less specific one, listed least specific first so
    // that file order cannot be what picks the winner.
    std::vector<config::Plugin> plugins;
    for (size_t i = table.size(); i-- > first;) {
      plugins.push_back(Scoped("p", table[i].route, table[i].service, table[i].consumer));
    }
    INFO(table[first].what);
    CHECK(ScopeRank(table[first].route, table[first].service, table[first].consumer) ==
          table[first].rank);
    std::vector<int> winners = ResolvePlugins(plugins, 0, 0, 0);
    REQUIRE(winners.size() == 1);
    const config::Plugin& w = plugins[winners[0]];
    CHECK(w.route == table[first].route);
    CHECK(w.service == table[first].service);
    CHECK(w.consumer == table[first].consumer);
  }
}

TEST_CASE("filter_host registry: scope matching and disabled instances", "[filter_host]") {
  std::vector<config::Plugin> plugins = {
      Scoped("cors", -1, -1, -1),  // 0 global
      Scoped("cors", 1, -1, -1),   // 1 other route
      Scoped("jwt", -1, 1, -1),    // 2 other service
      Scoped("rl", -1, -1, 0),     // 3 consumer only
      Scoped("rl", 0, -1, -1),     // 4 this route, disabled below
      Scoped("rl", -1, -1, -1),    // 5 global
  };
  plugins[4].enabled = false;
  SECTION("before a consumer is known, consumer-scoped instances do not apply") {
    CHECK(ResolvePlugins(plugins, 0, 0, -1) == std::vector<int>{0, 5});
  }
  SECTION("a disabled route instance lets the global one apply; the consumer one wins") {
    CHECK(ResolvePlugins(plugins, 0, 0, 0) == std::vector<int>{0, 3});
  }
  SECTION("another route and service get their own instances") {
    CHECK(ResolvePlugins(plugins, 1, 1, -1) == std::vector<int>{1, 2, 5});
  }
  SECTION("no route: global plugins only") {
    CHECK(ResolvePlugins(plugins, -1, -1, -1) == std::vector<int>{0, 5});
  }
}

TEST_CASE("filter_host registry: chains run by descriptor priority, higher first",
          "[filter_host]") {
  // Listed in the file in the wrong order on purpose.
  config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
services:
- name: svc
  url: http://127.0.0.1:9
  routes:
  - name: r
    paths: [/]
    plugins:
    - name: late
plugins:
- name: prio-a
- name: prio-c
- name: good
- name: prio-b
)yaml");
  Loader loader(FixturesDir(), &Host().api());
  absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
  REQUIRE(chains.ok());
  // prio-b 2000, good 1000, prio-c 910, prio-a 10, late 5.
  CHECK(Names((*chains)->ForRoute(0)) ==
        std::vector<std::string>{"prio-b", "good", "prio-c", "prio-a", "late"});
  CHECK(Names((*chains)->ForRoute(-1)) ==
        std::vector<std::string>{"prio-b", "good", "prio-c", "prio-a"});
  CHECK((*chains)->ForRoute(0).request_body);
  CHECK_FALSE((*chains)->ForRoute(0).response_body);
  CHECK_FALSE((*chains)->ForRoute(0).consumer_scoped);
}

TEST_CASE("filter_host registry: consumer chains are precomputed", "[filter_host]") {
  config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
services:
- name: svc
  url: http://127.0.0.1:9
  routes:
  - name: r
    paths: [/]
consumers:
- username: alice
- username: bob
  custom_id: b-1
plugins:
- name: good
- name: prio-a
  consumer: alice
)yaml");
  Loader loader(FixturesDir(), &Host().api());
  absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
  REQUIRE(chains.ok());
  const Chains& c = **chains;
  CHECK(c.ForRoute(0).consumer_scoped);
  CHECK(Names(c.ForRoute(0)) == std::vector<std::string>{"good"});
  CHECK(Names(c.ForConsumer(0, 0)) == std::vector<std::string>{"good", "prio-a"});
  CHECK(&c.ForConsumer(0, 1) == &c.ForRoute(0));
  CHECK(c.FindConsumer("alice") == 0);
  CHECK(c.FindConsumer("b-1") == 1);
  CHECK(c.FindConsumer(c.consumer(1).id) == 1);
  CHECK(c.FindConsumer("carol") == -1);
}

TEST_CASE("filter_host registry: a filter's config errors point at the field", "[filter_host]") {
  Loader loader(FixturesDir(), &Host().api());
  SECTION("each error at its field's position, in file order") {
    config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
plugins:
- name: reject
  config:
    policy: cluster
    minute: 0
)yaml");
    absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
    REQUIRE_FALSE(chains.ok());
    CHECK(chains.status().message() ==
          "kong.yml:5:13: config.policy: expected one of: local\n"
          "kong.yml:6:13: config.minute: must be greater than 0");
  }
  SECTION("a missing field points at its parent object") {
    config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
plugins:
- name: reject
  config:
    second: 1
)yaml");
    absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
    REQUIRE_FALSE(chains.ok());
    CHECK(chains.status().message() == "kong.yml:5:5: config.minute: required field missing");
  }
  SECTION("without a config block, the plugin entry") {
    config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
plugins:
- name: good
- name: reject
)yaml");
    absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
    REQUIRE_FALSE(chains.ok());
    CHECK(chains.status().message() == "kong.yml:4:3: config.minute: required field missing");
  }
  SECTION("load errors carry the plugin entry's position") {
    config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
plugins:
- name: good
- name: major2
)yaml");
    absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
    REQUIRE_FALSE(chains.ok());
    CHECK(chains.status().message() ==
          "kong.yml:4:3: plugin 'major2': " + FixturesDir() +
              "/major2.so was built for filter ABI 2.0, this sluice supports 1." +
              std::to_string(SLUICE_ABI_VERSION_MINOR));
  }
}

TEST_CASE("filter_host registry: MapConfigError falls back along the path", "[filter_host]") {
  config::Plugin p;
  p.mark = {10, 3};
  p.config_marks = {
      {"config", {11, 5}}, {"config.add", {12, 7}}, {"config.add.headers[0]", {13, 9}}};
  CHECK(MapConfigError("f.yml", p, "config.add.headers[0]: bad header") ==
        "f.yml:13:9: config.add.headers[0]: bad header");
  CHECK(MapConfigError("f.yml", p, "config.add.headers[1].x: bad") ==
        "f.yml:12:7: config.add.headers[1].x: bad");
  CHECK(MapConfigError("f.yml", p, "config: at least one of second, minute is required") ==
        "f.yml:11:5: config: at least one of second, minute is required");
  CHECK(MapConfigError("f.yml", p, "something odd") == "f.yml:10:3: something odd");
}

}  // namespace
}  // namespace sluice::filter_host

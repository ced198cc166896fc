// SPDX-License-Identifier: Apache-2.0
// prometheus schema: every default and every rejection (reference/kong.md §8.1).
#include "schema.h"

#include <string>

#include <catch2/catch.hpp>

#include <sluice/filter.hpp>

namespace sluice::filters::prometheus {
namespace {

// The ConfigError text ParseConfig throws, or "" when it accepts the config.
std::string Error(std::string_view json) {
  try {
    ParseConfig(json);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("prometheus schema: every switch is off by default, as in Kong 3.x",
          "[filters][prometheus]") {
  const Config c = ParseConfig("{}");
  CHECK_FALSE(c.per_consumer);
  CHECK_FALSE(c.status_code_metrics);
  CHECK_FALSE(c.latency_metrics);
  CHECK_FALSE(c.bandwidth_metrics);
  CHECK_FALSE(c.upstream_health_metrics);
  CHECK_FALSE(c.ai_metrics);
  CHECK_FALSE(c.wasm_metrics);
}

TEST_CASE("prometheus schema: each switch turns on alone", "[filters][prometheus]") {
  CHECK(ParseConfig(R"({"per_consumer": true})").per_consumer);
  CHECK(ParseConfig(R"({"status_code_metrics": true})").status_code_metrics);
  CHECK(ParseConfig(R"({"latency_metrics": true})").latency_metrics);
  CHECK(ParseConfig(R"({"bandwidth_metrics": true})").bandwidth_metrics);
  CHECK(ParseConfig(R"({"upstream_health_metrics": true})").upstream_health_metrics);
  CHECK(ParseConfig(R"({"ai_metrics": true})").ai_metrics);
  CHECK(ParseConfig(R"({"wasm_metrics": true})").wasm_metrics);
  const Config c = ParseConfig(R"({"latency_metrics": true})");
  CHECK_FALSE(c.status_code_metrics);
  CHECK_FALSE(c.per_consumer);
}

TEST_CASE("prometheus schema: null and false keep the default", "[filters][prometheus]") {
  const Config c = ParseConfig(
      R"({"per_consumer": null, "status_code_metrics": false, "latency_metrics": null})");
  CHECK_FALSE(c.per_consumer);
  CHECK_FALSE(c.status_code_metrics);
  CHECK_FALSE(c.latency_metrics);
}

TEST_CASE("prometheus schema: rejections name the field", "[filters][prometheus]") {
  CHECK(Error(R"({"per_consumer": "yes"})") == "config.per_consumer: expected a boolean");
  CHECK(Error(R"({"status_code_metrics": 1})") == "config.status_code_metrics: expected a boolean");
  CHECK(Error(R"({"latency_metrics": []})") == "config.latency_metrics: expected a boolean");
  CHECK(Error(R"({"bandwidth_metrics": {}})") == "config.bandwidth_metrics: expected a boolean");
  CHECK(Error(R"({"upstream_health_metrics": "true"})") ==
        "config.upstream_health_metrics: expected a boolean");
  CHECK(Error(R"({"ai_metrics": 0})") == "config.ai_metrics: expected a boolean");
  CHECK(Error(R"({"wasm_metrics": 0})") == "config.wasm_metrics: expected a boolean");
  CHECK(Error(R"({"per_consumers": true})") == "config.per_consumers: unknown field");
  CHECK(Error("[]") == "config: expected an object");
}

}  // namespace
}  // namespace sluice::filters::prometheus

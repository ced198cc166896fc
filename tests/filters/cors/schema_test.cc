// SPDX-License-Identifier: Apache-2.0
// cors schema: every default and every rejection (reference/kong.md §6.1).
#include "schema.h"

#include <string>

#include <catch2/catch.hpp>

#include <sluice/filter.hpp>

namespace sluice::filters::cors {
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

TEST_CASE("cors schema: defaults are Kong's", "[filters][cors]") {
  const Config c = ParseConfig("{}");
  CHECK_FALSE(c.origins.has_value());
  CHECK_FALSE(c.headers.has_value());
  CHECK(c.exposed_headers.empty());
  CHECK(c.methods == std::vector<std::string>{"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE",
                                              "OPTIONS", "TRACE", "CONNECT"});
  CHECK(c.allow_methods_value == "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT");
  CHECK_FALSE(c.max_age.has_value());
  CHECK(c.max_age_value.empty());
  CHECK_FALSE(c.credentials);
  CHECK_FALSE(c.private_network);
  CHECK_FALSE(c.preflight_continue);
  CHECK(c.allow_origin_absent);
  CHECK(c.allow_headers_value.empty());
  CHECK(c.expose_headers_value.empty());
  CHECK(c.origin_policy.Decide("http://any.example").kind == OriginDecision::Kind::kAllowAll);
}

TEST_CASE("cors schema: null fields keep their defaults", "[filters][cors]") {
  const Config c = ParseConfig(
      R"({"origins": null, "headers": null, "methods": null, "max_age": null,
          "credentials": null, "allow_origin_absent": null})");
  CHECK_FALSE(c.origins.has_value());
  CHECK_FALSE(c.headers.has_value());
  CHECK(c.methods.size() == 9);
  CHECK_FALSE(c.max_age.has_value());
  CHECK_FALSE(c.credentials);
  CHECK(c.allow_origin_absent);
}

TEST_CASE("cors schema: values are kept and joined for the headers", "[filters][cors]") {
  const Config c = ParseConfig(
      R"({"origins": ["http://a.example", "(.*\\.)?b\\.example"],
          "headers": ["X-One", "X-Two"], "exposed_headers": ["X-Total", "X-Page"],
          "methods": ["GET", "POST"], "max_age": 3600, "credentials": true,
          "private_network": true, "preflight_continue": true, "allow_origin_absent": false})");
  REQUIRE(c.origins.has_value());
  CHECK(c.origins->size() == 2);
  CHECK(c.allow_headers_value == "X-One,X-Two");
  CHECK(c.expose_headers_value == "X-Total,X-Page");
  CHECK(c.allow_methods_value == "GET,POST");
  CHECK(c.max_age_value == "3600");
  CHECK(c.credentials);
  CHECK(c.private_network);
  CHECK(c.preflight_continue);
  CHECK_FALSE(c.allow_origin_absent);
}

TEST_CASE("cors schema: max_age prints as Lua's tostring", "[filters][cors]") {
  CHECK(ParseConfig(R"({"max_age": 1.5})").max_age_value == "1.5");
  CHECK(ParseConfig(R"({"max_age": 0})").max_age_value == "0");
  CHECK(ParseConfig(R"({"max_age": 86400.0})").max_age_value == "86400");
  CHECK(LuaNumber(-3) == "-3");
}

TEST_CASE("cors schema: empty lists are accepted", "[filters][cors]") {
  const Config c = ParseConfig(R"({"origins": [], "headers": [], "methods": []})");
  CHECK(c.origins->empty());
  CHECK(c.headers->empty());
  CHECK(c.allow_methods_value.empty());
  CHECK(c.origin_policy.Decide(std::nullopt).kind == OriginDecision::Kind::kAllowAll);
}

TEST_CASE("cors schema: rejections name the field", "[filters][cors]") {
  SECTION("unknown field") { CHECK(Error(R"({"origin": "*"})") == "config.origin: unknown field"); }
  SECTION("not an object") { CHECK(Error("[]") == "config: expected an object"); }
  SECTION("malformed JSON") { CHECK(Error("{").rfind("config: invalid JSON at offset 1", 0) == 0); }
  SECTION("origins") {
    CHECK(Error(R"({"origins": "*"})") == "config.origins: expected an array");
    CHECK(Error(R"({"origins": [1]})") == "config.origins[0]: expected a string");
    CHECK(Error(R"({"origins": ["http://ok.example", "("]})") ==
          "config.origins[1]: '(' is not a valid regex");
    CHECK(Error(R"({"origins": ["[a-"]})") == "config.origins[0]: '[a-' is not a valid regex");
    CHECK(Error(R"({"origins": [""]})") == "config.origins[0]: must not be empty");
    CHECK(Error(R"({"origins": ["http://a.example\n"]})") ==
          "config.origins[0]: must not contain control characters");
  }
  SECTION("methods") {
    CHECK(Error(R"({"methods": "GET"})") == "config.methods: expected an array");
    CHECK(Error(R"({"methods": ["GET", "get"]})") ==
          "config.methods[1]: expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, "
          "TRACE, CONNECT");
    CHECK(Error(R"({"methods": ["PROPFIND"]})") ==
          "config.methods[0]: expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, "
          "TRACE, CONNECT");
    CHECK(Error(R"({"methods": [true]})") == "config.methods[0]: expected a string");
  }
  SECTION("headers and exposed_headers") {
    CHECK(Error(R"({"headers": "X-A"})") == "config.headers: expected an array");
    CHECK(Error(R"({"headers": [null]})") == "config.headers[0]: expected a string");
    CHECK(Error(R"({"exposed_headers": {}})") == "config.exposed_headers: expected an array");
    CHECK(Error(R"({"exposed_headers": ["X-A\r\nX-B: 1"]})") ==
          "config.exposed_headers[0]: must not contain control characters");
  }
  SECTION("max_age") {
    CHECK(Error(R"({"max_age": "3600"})") == "config.max_age: expected a number");
  }
  SECTION("booleans") {
    CHECK(Error(R"({"credentials": "true"})") == "config.credentials: expected a boolean");
    CHECK(Error(R"({"private_network": 1})") == "config.private_network: expected a boolean");
    CHECK(Error(R"({"preflight_continue": "no"})") ==
          "config.preflight_continue: expected a boolean");
    CHECK(Error(R"({"allow_origin_absent": []})") ==
          "config.allow_origin_absent: expected a boolean");
  }
}

}  // namespace
}  // namespace sluice::filters::cors

// SPDX-License-Identifier: Apache-2.0
#include <string>

#include <catch2/catch.hpp>

#include <sluice/json.hpp>

namespace {

std::string ErrorOf(std::string_view text) {
  try {
    sluice::json::Parse(text);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sdk json: values carry their field paths", "[sdk]") {
  sluice::json::Value v = sluice::json::Parse(
      R"({"minute": 5, "add": {"headers": ["a:1", "b:\u00e9"]}, "on": true, "x": null})");
  CHECK(v.Find("minute")->Integer() == 5);
  CHECK(v.Find("x") == nullptr);
  CHECK(v.Find("on")->Bool());
  const auto& headers = v.Find("add")->Find("headers")->Array();
  REQUIRE(headers.size() == 2);
  CHECK(headers[1].String() == "b:\xc3\xa9");
  CHECK(headers[1].path() == "config.add.headers[1]");
}

TEST_CASE("sdk json: type errors name the field", "[sdk]") {
  sluice::json::Value v = sluice::json::Parse(R"({"minute": 1.5, "name": 3})");
  try {
    v.Find("minute")->Integer();
    FAIL("no error");
  } catch (const sluice::ConfigError& e) {
    CHECK(std::string(e.what()) == "config.minute: expected an integer");
  }
  try {
    v.AllowOnly({"minute"});
    FAIL("no error");
  } catch (const sluice::ConfigError& e) {
    CHECK(std::string(e.what()) == "config.name: unknown field");
  }
}

TEST_CASE("sdk json: malformed text is rejected", "[sdk]") {
  CHECK(ErrorOf(R"({"a": 1,})") == "config: invalid JSON at offset 8: expected a member name");
  CHECK(ErrorOf(R"({"a": 1} x)") ==
        "config: invalid JSON at offset 9: unexpected text after the value");
  CHECK(ErrorOf(R"({"a": 1, "a": 2})") ==
        "config: invalid JSON at offset 12: duplicate member 'a'");
  CHECK(ErrorOf(R"(["\ud800"])") == "config: invalid JSON at offset 8: lone surrogate");
}

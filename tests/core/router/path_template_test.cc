// SPDX-License-Identifier: Apache-2.0
// PathTemplate parsing and matching on its own.
#include "core/router/path_template.h"

#include <string>

#include <catch2/catch.hpp>

namespace sluice::router {
namespace {

PathTemplate MustParse(const char* tmpl) {
  auto t = PathTemplate::Parse(tmpl);
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return *t;
}

std::string ParseError(const char* tmpl) {
  auto t = PathTemplate::Parse(tmpl);
  REQUIRE_FALSE(t.ok());
  return std::string(t.status().message());
}

TEST_CASE("path template: parameters and literals", "[router]") {
  PathTemplate t = MustParse("/api/:version/users/{id}");
  REQUIRE(t.param_count() == 2);
  CHECK(t.param_name(0) == "version");
  CHECK(t.param_name(1) == "id");
  absl::string_view v[2];
  size_t len = 0;
  REQUIRE(t.Match("/api/v1/users/42", &len, v, 2));
  CHECK(len == 16);
  CHECK(v[0] == "v1");
  CHECK(v[1] == "42");
  REQUIRE(t.Match("/api/v1/users/42/", &len, v, 2));
  CHECK(len == 16);
  CHECK_FALSE(t.Match("/api/v1/users", &len, v, 2));
  CHECK_FALSE(t.Match("/api//users/42", &len, v, 2));
  CHECK_FALSE(t.Match("/API/v1/users/42", &len, v, 2));
  CHECK_FALSE(t.Match("api/v1/users/42", &len, v, 2));
}

TEST_CASE("path template: a rest parameter takes the remaining segments", "[router]") {
  PathTemplate t = MustParse("/static/{path+}");
  absl::string_view v[1];
  size_t len = 0;
  REQUIRE(t.Match("/static/a", &len, v, 1));
  CHECK(v[0] == "a");
  REQUIRE(t.Match("/static/a/b/", &len, v, 1));
  CHECK(v[0] == "a/b/");
  CHECK(len == 12);
  CHECK_FALSE(t.Match("/static/", &len, v, 1));
  CHECK_FALSE(t.Match("/static//a", &len, v, 1));
}

TEST_CASE("path template: captures beyond max_values are not written", "[router]") {
  PathTemplate t = MustParse("/{a}/{b}");
  absl::string_view v[1];
  size_t len = 0;
  REQUIRE(t.Match("/x/y", &len, v, 1));
  CHECK(v[0] == "x");
  REQUIRE(t.Match("/x/y", &len, nullptr, 0));
}

TEST_CASE("path template: segments that are not exactly a parameter are literals", "[router]") {
  PathTemplate t = MustParse("/a/{id}.json/{1x}/:/{}/{id}");
  REQUIRE(t.param_count() == 1);
  CHECK(t.param_name(0) == "id");
  absl::string_view v[1];
  size_t len = 0;
  REQUIRE(t.Match("/a/{id}.json/{1x}/:/{}/7", &len, v, 1));
  CHECK(v[0] == "7");
  CHECK_FALSE(t.Match("/a/x.json/{1x}/:/{}/7", &len, v, 1));
}

TEST_CASE("path template: rejects malformed templates", "[router]") {
  CHECK(ParseError("users/{id}") == "path template 'users/{id}': must start with '/'");
  CHECK(ParseError("") == "path template '': must start with '/'");
  CHECK(ParseError("/{id}/{id}") == "path template '/{id}/{id}': duplicate parameter name 'id'");
  CHECK(ParseError("/:id/{id+}") == "path template '/:id/{id+}': duplicate parameter name 'id'");
  CHECK(ParseError("/{p+}/x") ==
        "path template '/{p+}/x': greedy parameter '{p+}' must be the last segment");
}

}  // namespace
}  // namespace sluice::router

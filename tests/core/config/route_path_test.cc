// SPDX-License-Identifier: Apache-2.0
// Route path classification, the 2.1 -> 3.0 migration and the PCRE -> RE2 rewrite.
#include "core/config/route_path.h"

#include <catch2/catch.hpp>

namespace sluice::config {
namespace {

// Parses `path` and returns "kind|pattern", or "error: <text>".
std::string Parse(const std::string& path) {
  RoutePath out;
  if (auto err = ParseRoutePath(path, &out)) {
    return "error: " + *err;
  }
  const char* kind = out.kind == RoutePath::Kind::kPrefix  ? "prefix"
                     : out.kind == RoutePath::Kind::kRegex ? "regex"
                                                           : "template";
  CHECK(out.raw == path);
  return std::string(kind) + "|" + out.pattern;
}

TEST_CASE("config route path: 3.0 prefix, regex and template paths", "[config]") {
  CHECK(Parse("/") == "prefix|/");
  CHECK(Parse("/v1/orders") == "prefix|/v1/orders");
  CHECK(Parse("/v1/orders/") == "prefix|/v1/orders/");
  CHECK(Parse("/a%2Fb") == "prefix|/a%2Fb");
  CHECK(Parse("~/v1/orders/(?<id>\\d+)$") == "regex|/v1/orders/(?P<id>\\d+)$");
  CHECK(Parse("~/users/\\d+") == "regex|/users/\\d+");
  CHECK(Parse("/users/{id}") == "template|/users/{id}");
  CHECK(Parse("/api/users/:id") == "template|/api/users/:id");
  CHECK(Parse("/files/{proxy+}") == "template|/files/{proxy+}");
  CHECK(Parse("/a/{x}/b/:y") == "template|/a/{x}/b/:y");
  // Not whole-segment parameters: plain prefixes.
  CHECK(Parse("/a:b") == "prefix|/a:b");
  CHECK(Parse("/{id}.json") == "prefix|/{id}.json");
  CHECK(Parse("/:8080") == "prefix|/:8080");
}

TEST_CASE("config route path: 3.0 rejections use Kong's wording", "[config]") {
  CHECK(Parse("/a/../b") == "error: non-normalized path, consider use '/b' instead");
  CHECK(Parse("/a/./b") == "error: non-normalized path, consider use '/a/b' instead");
  CHECK(Parse("/%7Euser") == "error: non-normalized path, consider use '/~user' instead");
  CHECK(Parse("/a%2fb") == "error: non-normalized path, consider use '/a%2Fb' instead");
  CHECK(Parse("/a//b") == "error: must not have empty segments");
  CHECK(Parse("~/a//b") == "error: must not have empty segments");
  CHECK(Parse("v1") == "error: should start with: / (fixed path) or ~/ (regex path)");
  CHECK(Parse("~v1") == "error: should start with: / (fixed path) or ~/ (regex path)");
  CHECK(Parse("/a%zz") == "error: invalid url-encoded value: '%zz'");
  CHECK(Parse("/a%4") == "error: invalid url-encoded value: '%4'");
  CHECK(Parse("~/(x") == "error: invalid regex: '/(x' (RE2 returned: missing ): /(x)");
  CHECK(Parse("~/(?<=a)b") ==
        "error: invalid regex: '/(?<=a)b' (RE2 returned: invalid perl operator: (?<)");
  CHECK(Parse("/files/{rest+}/x") == "error: greedy parameter '{rest+}' must be the last segment");
  CHECK(Parse("/a/{id}/b/:id") == "error: duplicate parameter name 'id'");
  CHECK(Parse("/a/../{id}") == "error: non-normalized path, consider use '/{id}' instead");
}

TEST_CASE("config route path: 2.1 paths migrate as Kong's migrate_path_280_300", "[config]") {
  CHECK(MigrateLegacyPath("/v1/orders") == "/v1/orders");
  CHECK(MigrateLegacyPath("/a/./b/../c") == "/a/c");
  CHECK(MigrateLegacyPath("/a//b") == "/a/b");  // Kong's normalize merges slashes
  CHECK(MigrateLegacyPath("/v1/%7Euser") == "/v1/~user");
  CHECK(MigrateLegacyPath("/users/\\d+") == "~/users/\\d+");
  CHECK(MigrateLegacyPath("/orders/(?<id>\\d+)$") == "~/orders/(?<id>\\d+)$");
  // Inside a regex: unreserved escapes decode, metacharacters come back escaped, reserved
  // characters stay encoded (upper-cased).
  CHECK(MigrateLegacyPath("/x%2Ey(\\d)%2f%41") == "~/x\\.y(\\d)%2FA");
  // Templates are recognised before the character test.
  CHECK(MigrateLegacyPath("/users/{id}") == "/users/{id}");
  CHECK(MigrateLegacyPath("/api/users/:id") == "/api/users/:id");
  CHECK(MigrateLegacyPath("/files/{proxy+}") == "/files/{proxy+}");
}

TEST_CASE("config route path: named groups become RE2 syntax, nothing else changes", "[config]") {
  CHECK(ToRe2Syntax("(?<id>\\d+)") == "(?P<id>\\d+)");
  CHECK(ToRe2Syntax("(?<a>x)(?<_b>y)") == "(?P<a>x)(?P<_b>y)");
  CHECK(ToRe2Syntax("(?P<id>x)") == "(?P<id>x)");
  CHECK(ToRe2Syntax("\\(?<id>") == "\\(?<id>");  // an escaped paren is a literal
  CHECK(ToRe2Syntax("[(?<id>]") == "[(?<id>]");  // inside a class
  CHECK(ToRe2Syntax("[](?<a>]") == "[](?<a>]");  // ']' first in a class is a member
  CHECK(ToRe2Syntax("(?<=a)") == "(?<=a)");      // lookbehind is left for RE2 to reject
  CHECK(ToRe2Syntax("(?<!a)") == "(?<!a)");
  CHECK(HasTemplateSegment("/a/{b}"));
  CHECK(HasTemplateSegment("/a/:b"));
  CHECK_FALSE(HasTemplateSegment("/a/b:c"));
  CHECK_FALSE(HasTemplateSegment("/a/{1}"));
}

}  // namespace
}  // namespace sluice::config

// SPDX-License-Identifier: Apache-2.0
// NormalizePath and SplitTarget (reference/kong.md §2.4).
#include "core/http/path.h"

#include <string>

#include <catch2/catch.hpp>

namespace sluice::http {
namespace {

std::string Normalized(const char* raw) {
  std::string out;
  INFO(raw);
  REQUIRE(NormalizePath(raw, &out));
  return out;
}

TEST_CASE("path: percent-decodes unreserved characters only", "[http]") {
  CHECK(Normalized("/%41%62%63") == "/Abc");
  CHECK(Normalized("/%7Euser/%2D%2E%5F") == "/~user/-._");
  CHECK(Normalized("/a%2Fb") == "/a%2Fb");
  CHECK(Normalized("/a%2fb") == "/a%2Fb");
  CHECK(Normalized("/%20%3f%e2%82%ac") == "/%20%3F%E2%82%AC");
  CHECK(Normalized("/%00") == "/%00");
  CHECK(Normalized("/%25") == "/%25");
  CHECK(Normalized("/%2541") == "/%2541");
}

TEST_CASE("path: removes dot segments", "[http]") {
  CHECK(Normalized("/") == "/");
  CHECK(Normalized("/a/./b") == "/a/b");
  CHECK(Normalized("/a/b/../c") == "/a/c");
  CHECK(Normalized("/a/b/..") == "/a/");
  CHECK(Normalized("/a/b/.") == "/a/b/");
  CHECK(Normalized("/a/.") == "/a/");
  CHECK(Normalized("/a/..") == "/");
  CHECK(Normalized("/.") == "/");
  CHECK(Normalized("/a/b/../../c/") == "/c/");
  // Dots inside a segment are not dot segments.
  CHECK(Normalized("/route./req") == "/route./req");
  CHECK(Normalized("/route../req") == "/route../req");
  CHECK(Normalized("/a/.b/..c") == "/a/.b/..c");
  CHECK(Normalized("/a/.../b") == "/a/.../b");
}

TEST_CASE("path: decoded dots count as dot segments", "[http]") {
  CHECK(Normalized("/route%2E/req") == "/route./req");
  CHECK(Normalized("/a/%2E%2E/b") == "/b");
  CHECK(Normalized("/a/%2e/b") == "/a/b");
  CHECK(Normalized("/api/%2e%2E/admin") == "/admin");
}

TEST_CASE("path: never climbs above the root", "[http]") {
  CHECK(Normalized("/..") == "/");
  CHECK(Normalized("/../") == "/");
  CHECK(Normalized("/../../etc/passwd") == "/etc/passwd");
  CHECK(Normalized("/a/../../b") == "/b");
  CHECK(Normalized("/%2E%2E/%2e%2e/x") == "/x");
}

TEST_CASE("path: merges repeated slashes as Kong's router does", "[http]") {
  CHECK(Normalized("//") == "/");
  CHECK(Normalized("//admin") == "/admin");
  CHECK(Normalized("/a//b///c") == "/a/b/c");
  CHECK(Normalized("/a//") == "/a/");
  CHECK(Normalized("/a//../b") == "/b");
  CHECK(Normalized("/a/.//b") == "/a/b");
}

TEST_CASE("path: rejects bad escapes and relative paths", "[http]") {
  std::string out;
  for (const char* bad : {"", "a/b", "%2Fa", "/a%", "/a%2", "/a%G1", "/a%1G", "/%%41", "/a%-1"}) {
    INFO(bad);
    CHECK_FALSE(NormalizePath(bad, &out));
  }
}

TEST_CASE("path: the output buffer is reused", "[http]") {
  std::string out = "leftover";
  REQUIRE(NormalizePath("/x", &out));
  CHECK(out == "/x");
}

TEST_CASE("path: splits a target into path and query", "[http]") {
  absl::string_view path, query;
  bool has_query = true;
  SplitTarget("/a/b", &path, &query, &has_query);
  CHECK(path == "/a/b");
  CHECK(query.empty());
  CHECK_FALSE(has_query);
  SplitTarget("/a?x=1?y", &path, &query, &has_query);
  CHECK(path == "/a");
  CHECK(query == "x=1?y");
  CHECK(has_query);
  SplitTarget("/a?", &path, &query, &has_query);
  CHECK(path == "/a");
  CHECK(query.empty());
  CHECK(has_query);
}

}  // namespace
}  // namespace sluice::http

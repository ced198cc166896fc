// SPDX-License-Identifier: Apache-2.0
// Host header splitting and route host pattern parsing.
#include "core/router/host.h"

#include <string>

#include <catch2/catch.hpp>

namespace sluice::router {
namespace {

TEST_CASE("host: splits name and port", "[router]") {
  struct Case {
    const char* in;
    const char* name;
    int port;
  };

  const Case cases[] = {
      {"example.com", "example.com", 0},
      {"example.com:8080", "example.com", 8080},
      {"example.com:", "example.com:", 0},
      {"example.com:x", "example.com:x", 0},
      {"example.com:0", "example.com:0", 0},
      {"example.com:65536", "example.com:65536", 0},
      {"[::1]", "[::1]", 0},
      {"[::1]:443", "[::1]", 443},
      {"[::1]x", "[::1]x", 0},
      {"", "", 0},
  };
  for (const Case& c : cases) {
    INFO(c.in);
    absl::string_view name;
    int port = -1;
    SplitHostPort(c.in, &name, &port);
    CHECK(name == c.name);
    CHECK(port == c.port);
  }
}

TEST_CASE("host: parses route host patterns", "[router]") {
  auto parse = [](const char* h) {
    auto p = ParseHostPattern(h);
    INFO(h << ": " << p.status().ToString());
    REQUIRE(p.ok());
    return *p;
  };
  HostPattern exact = parse("API.Example.com");
  CHECK(exact.kind == HostPattern::Kind::kExact);
  CHECK(exact.key == "api.example.com");
  CHECK(exact.port == 0);
  HostPattern suffix = parse("*.Example.com:8443");
  CHECK(suffix.kind == HostPattern::Kind::kSuffix);
  CHECK(suffix.key == ".example.com");
  CHECK(suffix.port == 8443);
  HostPattern prefix = parse("example.*");
  CHECK(prefix.kind == HostPattern::Kind::kPrefix);
  CHECK(prefix.key == "example.");
  HostPattern v6 = parse("[::1]:81");
  CHECK(v6.key == "[::1]");
  CHECK(v6.port == 81);
}

TEST_CASE("host: rejects malformed host patterns", "[router]") {
  for (const char* bad : {"", ":80", "*", "*.", ".*", "a.*.b", "*.a.*", "*a.com", "a.com*",
                          "a.com:0", "a.com:99999", "a.com:"}) {
    INFO(bad);
    CHECK_FALSE(ParseHostPattern(bad).ok());
  }
}

}  // namespace
}  // namespace sluice::router

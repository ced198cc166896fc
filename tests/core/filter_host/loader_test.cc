// SPDX-License-Identifier: Apache-2.0
// The loader's contract: one load per name, and an exact, actionable message for every way a
// file can fail to be a usable filter.
#include "core/filter_host/loader.h"

#include <string>

#include <catch2/catch.hpp>

#include "tests/core/filter_host/test_support.h"

namespace sluice::filter_host {
namespace {

using testing::FixturesDir;
using testing::Host;

std::string LoadError(Loader& loader, const char* name) {
  absl::StatusOr<const Module*> m = loader.Load(name);
  REQUIRE_FALSE(m.ok());
  return std::string(m.status().message());
}

TEST_CASE("filter_host loader: loads a module once and copies its descriptor", "[filter_host]") {
  Loader loader(FixturesDir(), &Host().api());
  absl::StatusOr<const Module*> a = loader.Load("good");
  REQUIRE(a.ok());
  CHECK((*a)->name == "good");
  CHECK((*a)->path == FixturesDir() + "/good.so");
  CHECK((*a)->desc.priority == 1000);
  CHECK((*a)->desc.capabilities == SLUICE_CAP_REQUEST_BODY);
  absl::StatusOr<const Module*> b = loader.Load("good");
  REQUIRE(b.ok());
  CHECK(*a == *b);
}

TEST_CASE("filter_host loader: a missing file lists the filters that are there", "[filter_host]") {
  Loader loader(FixturesDir(), &Host().api());
  const std::string dir = FixturesDir();
  CHECK(LoadError(loader, "nope") ==
        "plugin 'nope': " + dir + "/nope.so not found; filters in " + dir +
            ": auth.so, correlation-id.so, fetcher.so, good.so, header-stamp.so, late.so, "
            "legacy-1-0.so, major2.so, misnamed.so, no-entry.so, prio-a.so, prio-b.so, "
            "prio-c.so, reject.so, thrower.so");
  // The failure is remembered, with the same message.
  CHECK(LoadError(loader, "nope").rfind("plugin 'nope': ", 0) == 0);

  Loader nowhere("/nonexistent/filters", &Host().api());
  CHECK(LoadError(nowhere, "jwt") ==
        "plugin 'jwt': /nonexistent/filters/jwt.so not found; filters dir /nonexistent/filters "
        "does not exist");
}

TEST_CASE("filter_host loader: refuses files that are not sluice filters", "[filter_host]") {
  Loader loader(FixturesDir() + "/", &Host().api());
  const std::string dir = FixturesDir();

  SECTION("no entry symbol") {
    CHECK(LoadError(loader, "no-entry") == "plugin 'no-entry': " + dir +
                                               "/no-entry.so is not a sluice filter (no "
                                               "sluice_filter_module_v1 symbol)");
  }
  SECTION("another major version") {
    CHECK(LoadError(loader, "major2") == "plugin 'major2': " + dir +
                                             "/major2.so was built for filter ABI 2.0, this "
                                             "sluice supports 1." +
                                             std::to_string(SLUICE_ABI_VERSION_MINOR));
  }
  SECTION("a descriptor naming another plugin") {
    CHECK(LoadError(loader, "misnamed") ==
          "plugin 'misnamed': " + dir +
              "/misnamed.so: invalid descriptor: name 'someone-else' does not match the file "
              "name 'misnamed.so'");
  }
  SECTION("a name that is not a file name") {
    CHECK(LoadError(loader, "../good") ==
          "plugin '../good': invalid name (letters, digits, '-' and '_' only)");
  }
}

TEST_CASE("filter_host loader: descriptor rules", "[filter_host]") {
  sluice_filter_descriptor d{};
  d.struct_size = sizeof d;
  d.abi_major = 1;
  d.name = {"x", 1};
  auto config_new = [](sluice_instance*, sluice_str, void**) -> sluice_status { return SLUICE_OK; };
  auto body = [](sluice_request*, void*, void*, bool) -> sluice_action {
    return SLUICE_ACTION_CONTINUE;
  };
  CHECK(CheckDescriptor(d, sizeof d, "x") == "on_config_new is missing");
  d.on_config_new = config_new;
  d.on_config_destroy = [](void*) {};
  CHECK(CheckDescriptor(d, sizeof d, "x").empty());
  CHECK(CheckDescriptor(d, 40, "x") ==
        "struct_size 40 is smaller than the 1.0 descriptor (144 bytes)");
  d.capabilities = SLUICE_CAP_RESPONSE_BODY;
  CHECK(CheckDescriptor(d, sizeof d, "x") == "capability response-body without on_response_body");
  d.capabilities = 0;
  d.on_request_body = body;
  CHECK(CheckDescriptor(d, sizeof d, "x") == "on_request_body without capability request-body");
  d.on_request_body = nullptr;
  d.capabilities = 8;
  CHECK(CheckDescriptor(d, sizeof d, "x") == "unknown capability bits 0x8");
}

}  // namespace
}  // namespace sluice::filter_host

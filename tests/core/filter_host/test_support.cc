// SPDX-License-Identifier: Apache-2.0
#include "tests/core/filter_host/test_support.h"

#include <catch2/catch.hpp>

namespace sluice::filter_host::testing {

FilterHost& Host() {
  static FilterHost* host = new FilterHost();  // never destroyed: modules keep its table
  return *host;
}

std::string FixturesDir() { return SLUICE_FIXTURES_DIR; }

config::Config LoadConfig(const char* yaml) {
  std::string text(yaml);
  if (!text.empty() && text[0] == '\n')
    text.erase(0, 1);
  config::LoadResult r = config::LoadString(text, "kong.yml");
  std::string errors;
  for (const config::Error& e : r.errors)
    errors += e.ToString() + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return std::move(r.config);
}

}  // namespace sluice::filter_host::testing

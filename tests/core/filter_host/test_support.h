// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the filter_host tests: the process's one FilterHost (modules keep the host
// table they were first given, as in the gateway), the fixtures dir, and YAML configs.
#pragma once

#include <string>

#include "core/config/loader.h"
#include "core/filter_host/filter_host.h"

namespace sluice::filter_host::testing {

// The process-wide host every test uses.
FilterHost& Host();

// The directory the fixture modules are built into.
std::string FixturesDir();

// Loads `yaml` (a leading newline is dropped so line 1 is the first line) as "kong.yml";
// fails the test on a config error.
config::Config LoadConfig(const char* yaml);

}  // namespace sluice::filter_host::testing

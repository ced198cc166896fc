// SPDX-License-Identifier: Apache-2.0
// Turns Kong-style declarative YAML (or JSON) into a validated config::Config, reporting every
// problem as `file:line:col: message`. Runs on the main thread; never throws.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/config/config.h"

namespace sluice::config {

struct LoadResult {
  Config config;              // meaningful only when errors is empty
  std::vector<Error> errors;  // in file order; empty = success

  bool ok() const { return errors.empty(); }
};

// Reads and validates `path`. A missing or unreadable file is one error with line 0.
LoadResult LoadFile(const std::string& path);

// Validates `text` as if it had been read from a file called `file_name` (used in messages).
LoadResult LoadString(absl::string_view text, const std::string& file_name);

}  // namespace sluice::config

// SPDX-License-Identifier: Apache-2.0
// Turns Kong-style declarative YAML (or JSON) into a validated config::Config, reporting every
// problem as `file:line:col: message`. Runs on the main thread; never throws.
//
// Error contract (tests/core/config/loader_test.cc pins it down):
//   - Error::ToString() is `<file>:<line>:<col>: <where>: <what>`, 1-based line and column;
//     `<file>: <what>` when the position is unknown (line 0: the file could not be read).
//   - <where> is the entity path with Kong's field names: `services[0]`,
//     `services[0].routes[1].strip_path`, `routes[2].paths[0]`, `plugins[1].config.minute`.
//     Document-level errors (parse failures) have no <where>.
//   - <what> is lower-case with no trailing period, in Kong's wording where Kong has one
//     (`unknown field`, `required field missing`, `expected an integer`,
//     `value should be between 0 and 65535`,
//     `invalid reference 'service: foo' (no such entry in 'services')`,
//     `uniqueness violation: 'services' entity with name set to 'a' already declared`,
//     `failed parsing declarative configuration: expected an object`).
//   - The position is that of the node at fault: the value for a bad value, the key for an
//     `unknown field` or `duplicate key`, the enclosing record (its first key, or its `{`) for a
//     missing field or a rule about the whole record, the document start for a missing
//     `_format_version`, and yaml-cpp's position for a syntax error.
//   - Every error is reported, ordered by position (line, then column).
//
// Semantics are Kong 3.x DB-less (reference/kong.md §1): "1.1"/"2.1" files get their route paths
// migrated and come out as format "3.0"; ids absent from the file are Kong's deterministic
// UUIDv5s (entities Kong would give a random id get one derived from their position instead).
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

// SPDX-License-Identifier: Apache-2.0
// Route `paths` entries: the "1.1"/"2.1" -> "3.0" migration, the prefix / regex / template
// split, and the PCRE -> RE2 regex rewrite. The router includes this for ToRe2Syntax() so that
// header regexes (`~*...`) compile exactly as the loader checked them.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

#include "core/config/config.h"

namespace sluice::config {

// Rewrites a Kong (PCRE) regex into RE2 syntax: named groups `(?<name>...)` become
// `(?P<name>...)`. Escapes and character classes are respected; everything else (including
// constructs RE2 lacks, such as lookbehind) is passed through for RE2 to reject.
std::string ToRe2Syntax(absl::string_view pcre);

// Kong's migrate_path_280_300 for one path of a "1.1"/"2.1" file: a path made only of
// [a-zA-Z0-9.-_~/%] is a prefix and is normalised; anything else becomes "~" + the path with
// percent-escapes decoded (reserved characters stay encoded, regex metacharacters are escaped).
// Template paths are left alone. Returns the "3.0" form.
std::string MigrateLegacyPath(absl::string_view path);

// Classifies and validates one entry of a route's `paths` as written in a "3.0" file (migrate
// legacy paths first). Fills `out->kind`, `out->raw` and `out->pattern` (see RoutePath); on a
// problem returns Kong's error text (e.g. "non-normalized path, consider use '/a' instead").
//   - "~..." is a regex; it must compile with RE2 after ToRe2Syntax(); pattern is that source.
//   - a path with a template segment (":name", "{name}", or a last segment "{name+}") is a
//     template; pattern is the path as written.
//   - anything else is a prefix and must already be normalised.
std::optional<std::string> ParseRoutePath(absl::string_view path, RoutePath* out);

// True when `path` has a template segment (it may still be malformed; ParseRoutePath says).
bool HasTemplateSegment(absl::string_view path);

}  // namespace sluice::config

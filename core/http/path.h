// SPDX-License-Identifier: Apache-2.0
// Request-target helpers: path normalisation before routing, so `/api/../admin` can only reach
// what `/admin` reaches.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace sluice::http {

// Normalises a request path as Kong does before matching: percent-decodes unreserved
// characters (ALPHA / DIGIT / "-" / "." / "_" / "~"), upper-cases the hex of remaining percent
// escapes, merges repeated slashes and removes dot segments (RFC 3986 §5.2.4), never climbing
// above "/". `raw` must not
// carry the query string. Writes into `out` (cleared first; reuse it to avoid allocation).
// Returns false for a path that does not start with '/' or holds a malformed percent escape.
bool NormalizePath(absl::string_view raw, std::string* out);

// Splits a request target into path and query (without the '?'). `has_query` tells a bare
// trailing '?' apart from no query at all.
void SplitTarget(absl::string_view target, absl::string_view* path, absl::string_view* query,
                 bool* has_query);

}  // namespace sluice::http

// SPDX-License-Identifier: Apache-2.0
// Path templates, a sluice extension to Kong paths: `/api/users/:id`, `/users/{id}`,
// `/files/{path+}`. Compiled once; matching is allocation-free and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::router {

// A parsed template. Segments are split on '/'. A segment that is exactly `:name` or `{name}`
// matches one non-empty path segment; `{name+}` (last segment only) matches the non-empty rest
// of the path, slashes included. Any other segment must equal the path segment byte for byte.
// Like a Kong prefix, a template also matches longer paths, but only at a segment boundary:
// `/users/{id}` matches `/users/42` and `/users/42/orders` (consuming `/users/42`), not
// `/users42`.
class PathTemplate {
 public:
  PathTemplate() = default;

  // Parses `tmpl` (must start with '/'). A parameter name is [A-Za-z_][A-Za-z0-9_]*; a segment
  // that is not exactly a parameter (`{1x}`, `{id}.json`, `:`) is a literal, as the loader
  // classifies it. Errors: a `{name+}` that is not last, a repeated name.
  static absl::StatusOr<PathTemplate> Parse(absl::string_view tmpl);

  // Matches `path` from its start. On success sets *matched_len to the length of the consumed
  // prefix and fills values[i] (i < max_values) with the text of parameter i, as views into
  // `path`.
  bool Match(absl::string_view path, size_t* matched_len, absl::string_view* values,
             size_t max_values) const;

  size_t param_count() const { return names_.size(); }

  // The name of parameter i, in template order.
  const std::string& param_name(size_t i) const { return names_[i]; }

 private:
  enum class Kind { kLiteral, kParam, kRest };

  struct Segment {
    Kind kind = Kind::kLiteral;
    std::string literal;  // kLiteral only
  };

  std::vector<Segment> segments_;
  std::vector<std::string> names_;
};

}  // namespace sluice::router

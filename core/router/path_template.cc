// SPDX-License-Identifier: Apache-2.0
// Parsing and matching of path templates (`/users/{id}`, `/api/:id`, `/files/{path+}`).
#include "core/router/path_template.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::router {
namespace {

bool IsIdent(absl::string_view s) {
  if (s.empty() || !(absl::ascii_isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view tmpl) {
  auto error = [tmpl](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("path template '", tmpl, "': ", what));
  };
  if (tmpl.empty() || tmpl[0] != '/') {
    return error("must start with '/'");
  }
  PathTemplate out;
  absl::string_view rest = tmpl.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    absl::string_view seg = rest.substr(0, slash);
    bool last = slash == absl::string_view::npos;
    // Classified as the loader does (core/config/route_path.cc): anything that is not exactly
    // `:name`, `{name}` or `{name+}` is a literal segment.
    Segment s;
    absl::string_view name;
    if (seg.size() > 1 && seg[0] == ':' && IsIdent(seg.substr(1))) {
      s.kind = Kind::kParam;
      name = seg.substr(1);
    } else if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      absl::string_view inner = seg.substr(1, seg.size() - 2);
      if (absl::EndsWith(inner, "+") && IsIdent(inner.substr(0, inner.size() - 1))) {
        s.kind = Kind::kRest;
        name = inner.substr(0, inner.size() - 1);
      } else if (IsIdent(inner)) {
        s.kind = Kind::kParam;
        name = inner;
      }
    }
    if (s.kind == Kind::kLiteral) {
      s.literal = std::string(seg);
    } else {
      if (s.kind == Kind::kRest && !last) {
        return error(absl::StrCat("greedy parameter '", seg, "' must be the last segment"));
      }
      if (std::find(out.names_.begin(), out.names_.end(), name) != out.names_.end()) {
        return error(absl::StrCat("duplicate parameter name '", name, "'"));
      }
      out.names_.emplace_back(name);
    }
    out.segments_.push_back(std::move(s));
    if (last) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  return out;
}

bool PathTemplate::Match(absl::string_view path, size_t* matched_len, absl::string_view* values,
                         size_t max_values) const {
  size_t pos = 0;
  size_t param = 0;
  for (const Segment& s : segments_) {
    // Each template segment needs a path segment: a '/' at `pos`.
    if (pos >= path.size() || path[pos] != '/') {
      return false;
    }
    size_t start = pos + 1;
    size_t end = path.find('/', start);
    if (end == absl::string_view::npos) {
      end = path.size();
    }
    absl::string_view seg = path.substr(start, end - start);
    switch (s.kind) {
      case Kind::kLiteral:
        if (seg != s.literal) {
          return false;
        }
        break;
      case Kind::kParam:
        if (seg.empty()) {
          return false;
        }
        if (param < max_values) {
          values[param] = seg;
        }
        ++param;
        break;
      case Kind::kRest:
        if (seg.empty()) {
          return false;
        }
        end = path.size();
        if (param < max_values) {
          values[param] = path.substr(start);
        }
        ++param;
        break;
    }
    pos = end;
  }
  *matched_len = pos;
  return true;
}

}  // namespace sluice::router

// SPDX-License-Identifier: Apache-2.0
// Route path classification and migration (see route_path.h). Kong's rules come from
// kong/db/schema/typedefs.lua (router_path) and kong/db/migrations/migrate_path_280_300.lua.
#include "core/config/route_path.h"

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include <re2/re2.h>

#include "core/config/field_checks.h"
#include "core/http/path.h"

namespace sluice::config {
namespace {

bool IsIdentStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }

bool IsIdent(absl::string_view s) {
  if (s.empty() || !IsIdentStart(s[0])) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
  }
  return true;
}

enum class Segment { kLiteral, kParam, kGreedy };

// ":name" and "{name}" are parameters; "{name+}" is a greedy (rest-of-path) parameter.
Segment Classify(absl::string_view seg, absl::string_view* name) {
  if (seg.size() > 1 && seg[0] == ':' && IsIdent(seg.substr(1))) {
    *name = seg.substr(1);
    return Segment::kParam;
  }
  if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
    absl::string_view inner = seg.substr(1, seg.size() - 2);
    if (absl::EndsWith(inner, "+") && IsIdent(inner.substr(0, inner.size() - 1))) {
      *name = inner.substr(0, inner.size() - 1);
      return Segment::kGreedy;
    }
    if (IsIdent(inner)) {
      *name = inner;
      return Segment::kParam;
    }
  }
  return Segment::kLiteral;
}

// Checks the template segments of `path`; returns an error for a greedy parameter that is not
// last or a repeated parameter name.
std::optional<std::string> CheckTemplate(absl::string_view path) {
  std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  std::set<std::string> names;
  for (size_t i = 0; i < segments.size(); ++i) {
    absl::string_view name;
    Segment kind = Classify(segments[i], &name);
    if (kind == Segment::kLiteral) {
      continue;
    }
    if (kind == Segment::kGreedy && i + 1 != segments.size()) {
      return absl::StrCat("greedy parameter '", segments[i], "' must be the last segment");
    }
    if (!names.insert(std::string(name)).second) {
      return absl::StrCat("duplicate parameter name '", name, "'");
    }
  }
  return std::nullopt;
}

bool IsLegacyPrefixChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view(".-_~/%").find(c) != absl::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// migrate_path_280_300's normalize_regex: decodes %XX unless XX is reserved (kept, upper-cased);
// a decoded regex metacharacter is escaped.
std::string NormalizeLegacyRegex(absl::string_view regex) {
  static constexpr absl::string_view kReserved = "!#$%&'()*+,/:;=?@[]";
  static constexpr absl::string_view kMeta = ".^-{}\\|";
  std::string out;
  for (size_t i = 0; i < regex.size(); ++i) {
    int hi = i + 2 < regex.size() ? HexValue(regex[i + 1]) : -1;
    int lo = i + 2 < regex.size() ? HexValue(regex[i + 2]) : -1;
    if (regex[i] != '%' || hi < 0 || lo < 0) {
      out.push_back(regex[i]);
      continue;
    }
    char c = static_cast<char>(hi * 16 + lo);
    if (kReserved.find(c) != absl::string_view::npos) {
      out.push_back('%');
      out.push_back(absl::ascii_toupper(static_cast<unsigned char>(regex[i + 1])));
      out.push_back(absl::ascii_toupper(static_cast<unsigned char>(regex[i + 2])));
    } else if (kMeta.find(c) != absl::string_view::npos) {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back(c);
    }
    i += 2;
  }
  return out;
}

std::optional<std::string> CheckNormalized(absl::string_view path) {
  std::string normalized;
  if (!http::NormalizePath(path, &normalized)) {
    return absl::StrCat("invalid path: '", path, "'");
  }
  if (normalized != path) {
    return absl::StrCat("non-normalized path, consider use '", normalized, "' instead");
  }
  return std::nullopt;
}

}  // namespace

std::string ToRe2Syntax(absl::string_view pcre) {
  std::string out;
  out.reserve(pcre.size() + 4);
  bool in_class = false;
  for (size_t i = 0; i < pcre.size(); ++i) {
    char c = pcre[i];
    if (c == '\\' && i + 1 < pcre.size()) {
      out.push_back(c);
      out.push_back(pcre[++i]);
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
      }
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < pcre.size() && pcre[i + 1] == '^') {
        out.push_back(pcre[++i]);
      }
      if (i + 1 < pcre.size() && pcre[i + 1] == ']') {
        out.push_back(pcre[++i]);
      }
      continue;
    }
    if (c == '(' && i + 3 < pcre.size() && pcre[i + 1] == '?' && pcre[i + 2] == '<' &&
        IsIdentStart(pcre[i + 3])) {
      out.append("(?P<");
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

bool HasTemplateSegment(absl::string_view path) {
  for (absl::string_view seg : absl::StrSplit(path, '/')) {
    absl::string_view name;
    if (Classify(seg, &name) != Segment::kLiteral) {
      return true;
    }
  }
  return false;
}

std::string MigrateLegacyPath(absl::string_view path) {
  if (HasTemplateSegment(path)) {
    return std::string(path);
  }
  bool plain = true;
  for (char c : path) {
    plain = plain && IsLegacyPrefixChar(c);
  }
  if (plain) {
    std::string normalized;
    if (http::NormalizePath(path, &normalized)) {
      return normalized;
    }
    return std::string(path);
  }
  return absl::StrCat("~", NormalizeLegacyRegex(path));
}

std::optional<std::string> ParseRoutePath(absl::string_view path, RoutePath* out) {
  out->raw = std::string(path);
  out->pattern.clear();
  // Kong's validator order: match_none ("//"), match_any (leading "/" or "~/"), then the
  // custom check (percent-encoding, then normalisation or regex compilation).
  if (absl::StrContains(path, "//")) {
    return "must not have empty segments";
  }
  if (!absl::StartsWith(path, "/") && !absl::StartsWith(path, "~/")) {
    return "should start with: / (fixed path) or ~/ (regex path)";
  }
  if (auto err = internal::CheckPercentEncoding(path)) {
    return err;
  }

  if (path[0] == '~') {
    absl::string_view source = path.substr(1);
    std::string re2_source = ToRe2Syntax(source);
    RE2::Options options;
    options.set_log_errors(false);
    RE2 re(re2_source, options);
    if (!re.ok()) {
      return absl::StrCat("invalid regex: '", source, "' (RE2 returned: ", re.error(), ")");
    }
    out->kind = RoutePath::Kind::kRegex;
    out->pattern = std::move(re2_source);
    return std::nullopt;
  }

  if (HasTemplateSegment(path)) {
    if (auto err = CheckTemplate(path)) {
      return err;
    }
    if (auto err = CheckNormalized(path)) {
      return err;
    }
    out->kind = RoutePath::Kind::kTemplate;
    out->pattern = std::string(path);
    return std::nullopt;
  }

  if (auto err = CheckNormalized(path)) {
    return err;
  }
  out->kind = RoutePath::Kind::kPrefix;
  out->pattern = std::string(path);
  return std::nullopt;
}

}  // namespace sluice::config

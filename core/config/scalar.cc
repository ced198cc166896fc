// SPDX-License-Identifier: Apache-2.0
// What YAML values mean (see scalar.h): YAML 1.2 core-schema scalar resolution and the
// conversion of a subtree to JSON.
#include "core/config/scalar.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::config::internal {
namespace {

constexpr absl::string_view kTagPrefix = "tag:yaml.org,2002:";

bool IsDigits(absl::string_view s, int base) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    bool ok = base == 8    ? (c >= '0' && c <= '7')
              : base == 16 ? absl::ascii_isxdigit(static_cast<unsigned char>(c))
                           : absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Parses an integer in `base` with an optional sign; values beyond int64 become big_int.
void ParseInt(absl::string_view digits, int base, bool negative, Scalar* out) {
  out->kind = Scalar::Kind::kInt;
  uint64_t value = 0;
  bool overflow = false;
  for (char c : digits) {
    int d = absl::ascii_isdigit(static_cast<unsigned char>(c))
                ? c - '0'
                : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    if (value > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                    static_cast<uint64_t>(base)) {
      overflow = true;
      break;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!overflow && !negative && value <= kMaxPositive) {
    out->integer = static_cast<int64_t>(value);
    return;
  }
  if (!overflow && negative && value <= kMaxPositive + 1) {
    out->integer = value == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min()
                                             : -static_cast<int64_t>(value);
    return;
  }
  out->big_int = true;
  std::string text(digits);
  double d = base == 10 ? std::strtod(text.c_str(), nullptr) : static_cast<double>(value);
  if (overflow && base != 10) {
    d = std::numeric_limits<double>::infinity();
  }
  out->number = negative ? -d : d;
}

// YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  size_t int_digits = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    ++i, ++int_digits;
  }
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i, ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) {
      return false;
    }
  } else if (int_digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      ++i;
    }
    size_t exp_digits = 0;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i, ++exp_digits;
    }
    if (exp_digits == 0) {
      return false;
    }
  }
  return i == s.size();
}

bool ResolveNull(absl::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool ResolveBool(absl::string_view s, bool* out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    return *out = true, true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return *out = false, true;
  }
  return false;
}

bool ResolveInt(absl::string_view s, Scalar* out) {
  if (absl::StartsWith(s, "0x") && IsDigits(s.substr(2), 16)) {
    ParseInt(s.substr(2), 16, false, out);
    return true;
  }
  if (absl::StartsWith(s, "0o") && IsDigits(s.substr(2), 8)) {
    ParseInt(s.substr(2), 8, false, out);
    return true;
  }
  bool negative = false;
  absl::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (!IsDigits(digits, 10)) {
    return false;
  }
  ParseInt(digits, 10, negative, out);
  return true;
}

bool ResolveFloat(absl::string_view s, Scalar* out) {
  absl::string_view body = s;
  bool negative = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    out->kind = Scalar::Kind::kFloat;
    out->number = negative ? -std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    out->kind = Scalar::Kind::kFloat;
    out->number = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (!IsCoreFloat(s)) {
    return false;
  }
  std::string text(s);
  out->kind = Scalar::Kind::kFloat;
  out->number = std::strtod(text.c_str(), nullptr);
  return true;
}

}  // namespace

Scalar Resolve(const YAML::Node& node) {
  Scalar out;
  if (node.IsNull()) {
    return out;
  }
  if (!node.IsScalar()) {
    out.kind = Scalar::Kind::kInvalid;
    out.error = "expected a scalar";
    return out;
  }
  const std::string& text = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == absl::StrCat(kTagPrefix, "str")) {
    out.kind = Scalar::Kind::kString;
    return out;
  }
  if (tag == "?" || tag.empty()) {
    if (ResolveNull(text)) {
      return out;
    }
    if (ResolveBool(text, &out.boolean)) {
      out.kind = Scalar::Kind::kBool;
      return out;
    }
    if (ResolveInt(text, &out) || ResolveFloat(text, &out)) {
      return out;
    }
    out.kind = Scalar::Kind::kString;
    return out;
  }
  bool ok = false;
  if (tag == absl::StrCat(kTagPrefix, "null")) {
    ok = ResolveNull(text);
  } else if (tag == absl::StrCat(kTagPrefix, "bool")) {
    ok = ResolveBool(text, &out.boolean);
    if (ok) {
      out.kind = Scalar::Kind::kBool;
    }
  } else if (tag == absl::StrCat(kTagPrefix, "int")) {
    ok = ResolveInt(text, &out);
  } else if (tag == absl::StrCat(kTagPrefix, "float")) {
    ok = ResolveInt(text, &out) || ResolveFloat(text, &out);
    if (ok && out.kind == Scalar::Kind::kInt && !out.big_int) {
      out.number = static_cast<double>(out.integer);
    }
    if (ok) {
      out.kind = Scalar::Kind::kFloat;
    }
  } else {
    out.kind = Scalar::Kind::kInvalid;
    out.error = absl::StrCat("unsupported tag '", tag, "'");
    return out;
  }
  if (!ok) {
    out.kind = Scalar::Kind::kInvalid;
    out.error = absl::StrCat("invalid value for tag '", tag, "'");
  }
  return out;
}

bool ToJson(Diagnostics& diag, const YAML::Node& node, const std::string& where,
            const std::string& path, nlohmann::ordered_json* out,
            std::map<std::string, Mark>* marks, size_t* budget) {
  if (*budget == 0) {
    return false;
  }
  if (--*budget == 0) {
    diag.Add(node.Mark(), Field(where, path), "too many values");
    return false;
  }
  (*marks)[path] = ToMark(node.Mark());
  if (node.IsMap()) {
    *out = nlohmann::ordered_json::object();
    bool ok = true;
    for (MapEntry& e : MapEntries(diag, node, Field(where, path))) {
      std::string child_path = Field(path, e.key);
      nlohmann::ordered_json child;
      ok = ToJson(diag, e.value, where, child_path, &child, marks, budget) && ok;
      // An empty value (`key:`) has no useful position of its own; point at the key.
      if (e.value.IsNull()) {
        (*marks)[child_path] = ToMark(e.key_mark);
      }
      (*out)[e.key] = std::move(child);
    }
    return ok;
  }
  if (node.IsSequence()) {
    *out = nlohmann::ordered_json::array();
    bool ok = true;
    size_t i = 0;
    for (const YAML::Node& element : node) {
      nlohmann::ordered_json child;
      ok = ToJson(diag, element, where, Index(path, i++), &child, marks, budget) && ok;
      out->push_back(std::move(child));
    }
    return ok;
  }
  Scalar s = Resolve(node);
  switch (s.kind) {
    case Scalar::Kind::kNull:
      *out = nullptr;
      return true;
    case Scalar::Kind::kBool:
      *out = s.boolean;
      return true;
    case Scalar::Kind::kInt:
      if (!s.big_int) {
        *out = s.integer;
        return true;
      }
      [[fallthrough]];
    case Scalar::Kind::kFloat:
      if (!std::isfinite(s.number)) {
        diag.Add(node.Mark(), Field(where, path), "expected a finite number");
        return false;
      }
      *out = s.number;
      return true;
    case Scalar::Kind::kString:
      *out = node.Scalar();
      return true;
    case Scalar::Kind::kInvalid:
      break;
  }
  diag.Add(node.Mark(), Field(where, path), s.error);
  return false;
}

}  // namespace sluice::config::internal

// SPDX-License-Identifier: Apache-2.0
// YAML walking helpers for the declarative loader (see yaml_reader.h).
#include "core/config/yaml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/config/field_checks.h"

namespace sluice::config::internal {
namespace {

constexpr absl::string_view kTagPrefix = "tag:yaml.org,2002:";

bool IsDigits(absl::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = base == 8    ? (c >= '0' && c <= '7')
              : base == 16 ? absl::ascii_isxdigit(static_cast<unsigned char>(c))
                           : absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!ok) return false;
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
  if (overflow && base != 10) d = std::numeric_limits<double>::infinity();
  out->number = negative ? -d : d;
}

// YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i, ++frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0) return false;
  } else if (int_digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i, ++exp_digits;
    }
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool ResolveNull(absl::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool ResolveBool(absl::string_view s, bool* out) {
  if (s == "true" || s == "True" || s == "TRUE") return *out = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return *out = false, true;
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
  if (!IsDigits(digits, 10)) return false;
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
  if (!IsCoreFloat(s)) return false;
  std::string text(s);
  out->kind = Scalar::Kind::kFloat;
  out->number = std::strtod(text.c_str(), nullptr);
  return true;
}

std::string FormatLimit(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrCat(v);
}

}  // namespace

Mark ToMark(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return Mark{};
  return Mark{mark.line + 1, mark.column + 1};
}

std::string Field(absl::string_view where, absl::string_view key) {
  if (where.empty()) return std::string(key);
  return absl::StrCat(where, ".", key);
}

std::string Index(absl::string_view where, size_t i) { return absl::StrCat(where, "[", i, "]"); }

void Diagnostics::Add(const YAML::Mark& mark, absl::string_view where, absl::string_view what) {
  Add(ToMark(mark), where, what);
}

void Diagnostics::Add(Mark mark, absl::string_view where, absl::string_view what) {
  Error e;
  e.file = file_;
  e.mark = mark;
  e.message = where.empty() ? std::string(what) : absl::StrCat(where, ": ", what);
  errors_.push_back(std::move(e));
}

std::vector<Error> Diagnostics::TakeSorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Error& a, const Error& b) {
    if (a.mark.line != b.mark.line) return a.mark.line < b.mark.line;
    return a.mark.col < b.mark.col;
  });
  return std::move(errors_);
}

Scalar Resolve(const YAML::Node& node) {
  Scalar out;
  if (node.IsNull()) return out;
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
    if (ResolveNull(text)) return out;
    if (ResolveBool(text, &out.boolean)) {
      out.kind = Scalar::Kind::kBool;
      return out;
    }
    if (ResolveInt(text, &out) || ResolveFloat(text, &out)) return out;
    out.kind = Scalar::Kind::kString;
    return out;
  }
  bool ok = false;
  if (tag == absl::StrCat(kTagPrefix, "null")) {
    ok = ResolveNull(text);
  } else if (tag == absl::StrCat(kTagPrefix, "bool")) {
    ok = ResolveBool(text, &out.boolean);
    if (ok) out.kind = Scalar::Kind::kBool;
  } else if (tag == absl::StrCat(kTagPrefix, "int")) {
    ok = ResolveInt(text, &out);
  } else if (tag == absl::StrCat(kTagPrefix, "float")) {
    ok = ResolveInt(text, &out) || ResolveFloat(text, &out);
    if (ok && out.kind == Scalar::Kind::kInt && !out.big_int) {
      out.number = static_cast<double>(out.integer);
    }
    if (ok) out.kind = Scalar::Kind::kFloat;
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

std::optional<std::string> ReadString(Diagnostics& diag, const YAML::Node& node,
                                      const std::string& where) {
  Scalar s = Resolve(node);
  if (s.kind == Scalar::Kind::kString) return node.Scalar();
  diag.Add(node.Mark(), where, s.kind == Scalar::Kind::kInvalid && node.IsScalar()
                                   ? s.error
                                   : "expected a string");
  return std::nullopt;
}

std::optional<int64_t> ReadInteger(Diagnostics& diag, const YAML::Node& node,
                                   const std::string& where, int64_t lo, int64_t hi) {
  Scalar s = Resolve(node);
  int64_t value = 0;
  bool in_range = true;
  if (s.kind == Scalar::Kind::kInt && !s.big_int) {
    value = s.integer;
  } else if ((s.kind == Scalar::Kind::kInt && s.big_int) ||
             (s.kind == Scalar::Kind::kFloat && std::isfinite(s.number) &&
              std::floor(s.number) == s.number)) {
    // An integral float such as `80.0` is an integer in Kong (Lua numbers); a huge one is
    // simply out of range.
    if (s.number >= static_cast<double>(lo) && s.number <= static_cast<double>(hi)) {
      value = static_cast<int64_t>(s.number);
    } else {
      in_range = false;
    }
  } else {
    diag.Add(node.Mark(), where, "expected an integer");
    return std::nullopt;
  }
  if (!in_range || value < lo || value > hi) {
    diag.Add(node.Mark(), where, absl::StrCat("value should be between ", lo, " and ", hi));
    return std::nullopt;
  }
  return value;
}

std::optional<double> ReadNumber(Diagnostics& diag, const YAML::Node& node,
                                 const std::string& where, double lo, double hi) {
  Scalar s = Resolve(node);
  double value = 0;
  if (s.kind == Scalar::Kind::kInt) {
    value = s.big_int ? s.number : static_cast<double>(s.integer);
  } else if (s.kind == Scalar::Kind::kFloat && !std::isnan(s.number)) {
    value = s.number;
  } else {
    diag.Add(node.Mark(), where, "expected a number");
    return std::nullopt;
  }
  if (value < lo || value > hi) {
    diag.Add(node.Mark(), where,
             absl::StrCat("value should be between ", FormatLimit(lo), " and ", FormatLimit(hi)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ReadBool(Diagnostics& diag, const YAML::Node& node, const std::string& where) {
  Scalar s = Resolve(node);
  if (s.kind == Scalar::Kind::kBool) return s.boolean;
  diag.Add(node.Mark(), where, "expected a boolean");
  return std::nullopt;
}

std::optional<std::string> ReadOneOf(Diagnostics& diag, const YAML::Node& node,
                                     const std::string& where,
                                     std::initializer_list<absl::string_view> options) {
  std::optional<std::string> value = ReadString(diag, node, where);
  if (!value) return std::nullopt;
  for (absl::string_view option : options) {
    if (*value == option) return value;
  }
  diag.Add(node.Mark(), where, absl::StrCat("expected one of: ", absl::StrJoin(options, ", ")));
  return std::nullopt;
}

bool ForEachElement(Diagnostics& diag, const YAML::Node& node, const std::string& where, bool set,
                    const std::function<void(const YAML::Node&, const std::string&)>& fn) {
  if (!node.IsSequence()) {
    diag.Add(node.Mark(), where, set ? "expected a set" : "expected an array");
    return false;
  }
  size_t i = 0;
  for (const YAML::Node& element : node) {
    fn(element, Index(where, i));
    ++i;
  }
  return true;
}

std::optional<std::vector<std::string>> ReadStrings(Diagnostics& diag, const YAML::Node& node,
                                                    const std::string& where, bool set) {
  std::vector<std::string> out;
  bool ok = ForEachElement(diag, node, where, set,
                           [&](const YAML::Node& element, const std::string& element_where) {
                             if (auto s = ReadString(diag, element, element_where)) {
                               out.push_back(std::move(*s));
                             }
                           });
  if (!ok) return std::nullopt;
  return out;
}

std::vector<MapEntry> MapEntries(Diagnostics& diag, const YAML::Node& map,
                                 const std::string& where) {
  std::vector<MapEntry> out;
  std::vector<YAML::Node> merges;
  auto find = [&out](const std::string& key) {
    return std::find_if(out.begin(), out.end(), [&](const MapEntry& e) { return e.key == key; });
  };
  // yaml-cpp iterators hand out temporaries: copy the key and value handles (cheap).
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    std::string text = key.IsScalar() ? key.Scalar() : std::string(key.IsNull() ? "~" : "?");
    if (text == "<<" && key.Tag() == "?") {
      merges.push_back(value);
      continue;
    }
    if (find(text) != out.end()) {
      diag.Add(key.Mark(), Field(where, text), "duplicate key");
      continue;
    }
    out.push_back(MapEntry{std::move(text), key.Mark(), value});
  }
  // YAML merge keys: `<<: *a` or `<<: [*a, *b]`; earlier sources win, written keys win over all.
  for (const YAML::Node& merge : merges) {
    std::vector<YAML::Node> sources;
    if (merge.IsMap()) {
      sources.push_back(merge);
    } else if (merge.IsSequence()) {
      for (const YAML::Node& s : merge) sources.push_back(s);
    }
    for (const YAML::Node& source : sources) {
      if (!source.IsMap()) {
        diag.Add(source.Mark(), Field(where, "<<"), "expected a map to merge");
        continue;
      }
      for (auto it = source.begin(); it != source.end(); ++it) {
        const YAML::Node key = it->first;
        const YAML::Node value = it->second;
        std::string text = key.IsScalar() ? key.Scalar() : "?";
        if (find(text) != out.end()) continue;
        out.push_back(MapEntry{std::move(text), key.Mark(), value});
      }
    }
    if (sources.empty()) diag.Add(merge.Mark(), Field(where, "<<"), "expected a map to merge");
  }
  return out;
}

Record::Record(Diagnostics& diag, const YAML::Node& map, std::string where)
    : diag_(diag), where_(std::move(where)), mark_(map.Mark()) {
  for (MapEntry& e : MapEntries(diag_, map, where_)) slots_.push_back(Slot{std::move(e), false});
}

const Record::Slot* Record::Find(absl::string_view key) const {
  for (const Slot& s : slots_) {
    if (s.entry.key == key) return &s;
  }
  return nullptr;
}

const YAML::Node* Record::Take(absl::string_view key) {
  Slot* slot = const_cast<Slot*>(Find(key));
  if (slot == nullptr) return nullptr;
  slot->used = true;
  if (slot->entry.value.IsNull()) return nullptr;
  return &slot->entry.value;
}

bool Record::Has(absl::string_view key) const {
  const Slot* slot = Find(key);
  return slot != nullptr && !slot->entry.value.IsNull();
}

const YAML::Node* Record::Peek(absl::string_view key) const {
  const Slot* slot = Find(key);
  if (slot == nullptr || slot->entry.value.IsNull()) return nullptr;
  return &slot->entry.value;
}

bool Record::NonEmpty(absl::string_view key) const {
  const YAML::Node* v = Peek(key);
  if (v == nullptr) return false;
  if (v->IsSequence() || v->IsMap()) return v->size() > 0;
  return !(v->IsScalar() && v->Scalar().empty());
}

YAML::Mark Record::ValueMark(absl::string_view key) const {
  const Slot* slot = Find(key);
  if (slot == nullptr) return mark_;
  if (slot->entry.value.IsNull()) return slot->entry.key_mark;
  return slot->entry.value.Mark();
}

YAML::Mark Record::KeyMark(absl::string_view key) const {
  const Slot* slot = Find(key);
  return slot == nullptr ? mark_ : slot->entry.key_mark;
}

std::optional<std::string> Record::String(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadString(diag_, *v, Field(where_, key));
}

std::optional<int64_t> Record::Integer(absl::string_view key, int64_t lo, int64_t hi) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadInteger(diag_, *v, Field(where_, key), lo, hi);
}

std::optional<double> Record::Number(absl::string_view key, double lo, double hi) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadNumber(diag_, *v, Field(where_, key), lo, hi);
}

std::optional<bool> Record::Bool(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadBool(diag_, *v, Field(where_, key));
}

std::optional<std::string> Record::OneOf(absl::string_view key,
                                         std::initializer_list<absl::string_view> options) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadOneOf(diag_, *v, Field(where_, key), options);
}

std::optional<std::vector<std::string>> Record::Strings(absl::string_view key, bool set) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  return ReadStrings(diag_, *v, Field(where_, key), set);
}

std::optional<std::vector<std::string>> Record::Tags(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) return std::nullopt;
  std::vector<std::string> out;
  std::string where = Field(where_, key);
  bool ok = ForEachElement(diag_, *v, where, /*set=*/true,
                           [&](const YAML::Node& element, const std::string& element_where) {
                             std::optional<std::string> tag =
                                 ReadString(diag_, element, element_where);
                             if (!tag) return;
                             if (auto err = CheckTag(*tag)) {
                               diag_.Add(element.Mark(), element_where, *err);
                               return;
                             }
                             out.push_back(std::move(*tag));
                           });
  if (!ok) return std::nullopt;
  return out;
}

void Record::AcceptEntityExtras() {
  String("_comment");
  if (const YAML::Node* v = Take("_ignore")) {
    if (!v->IsSequence()) diag_.Add(v->Mark(), Field(where_, "_ignore"), "expected an array");
  }
  Integer("created_at", 0, std::numeric_limits<int64_t>::max());
  Integer("updated_at", 0, std::numeric_limits<int64_t>::max());
}

void Record::Missing(absl::string_view key) {
  diag_.Add(mark_, Field(where_, key), "required field missing");
}

void Record::Error(absl::string_view key, absl::string_view what) {
  diag_.Add(ValueMark(key), Field(where_, key), what);
}

void Record::Finish() {
  for (const Slot& s : slots_) {
    if (!s.used) diag_.Add(s.entry.key_mark, Field(where_, s.entry.key), "unknown field");
  }
}

bool ExpectMap(Diagnostics& diag, const YAML::Node& node, const std::string& where,
               absl::string_view what) {
  if (node.IsMap()) return true;
  diag.Add(node.Mark(), where, what);
  return false;
}

bool ToJson(Diagnostics& diag, const YAML::Node& node, const std::string& where,
            const std::string& path, nlohmann::ordered_json* out,
            std::map<std::string, Mark>* marks) {
  (*marks)[path] = ToMark(node.Mark());
  if (node.IsMap()) {
    *out = nlohmann::ordered_json::object();
    bool ok = true;
    for (MapEntry& e : MapEntries(diag, node, Field(where, path))) {
      std::string child_path = Field(path, e.key);
      nlohmann::ordered_json child;
      ok = ToJson(diag, e.value, where, child_path, &child, marks) && ok;
      // An empty value (`key:`) has no useful position of its own; point at the key.
      if (e.value.IsNull()) (*marks)[child_path] = ToMark(e.key_mark);
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
      ok = ToJson(diag, element, where, Index(path, i++), &child, marks) && ok;
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

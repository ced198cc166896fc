// SPDX-License-Identifier: Apache-2.0
// YAML walking helpers for the declarative loader (see yaml_reader.h).
#include "core/config/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "core/config/field_checks.h"
#include "core/config/scalar.h"

namespace sluice::config::internal {
namespace {

std::string FormatLimit(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrCat(v);
}

}  // namespace

Mark ToMark(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) {
    return Mark{};
  }
  return Mark{mark.line + 1, mark.column + 1};
}

std::string Field(absl::string_view where, absl::string_view key) {
  if (where.empty()) {
    return std::string(key);
  }
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
    if (a.mark.line != b.mark.line) {
      return a.mark.line < b.mark.line;
    }
    return a.mark.col < b.mark.col;
  });
  return std::move(errors_);
}

std::optional<std::string> ReadString(Diagnostics& diag, const YAML::Node& node,
                                      const std::string& where) {
  Scalar s = Resolve(node);
  if (s.kind == Scalar::Kind::kString) {
    return node.Scalar();
  }
  diag.Add(node.Mark(), where,
           s.kind == Scalar::Kind::kInvalid && node.IsScalar() ? s.error : "expected a string");
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
  if (s.kind == Scalar::Kind::kBool) {
    return s.boolean;
  }
  diag.Add(node.Mark(), where, "expected a boolean");
  return std::nullopt;
}

std::optional<std::string> ReadOneOf(Diagnostics& diag, const YAML::Node& node,
                                     const std::string& where,
                                     std::initializer_list<absl::string_view> options) {
  std::optional<std::string> value = ReadString(diag, node, where);
  if (!value) {
    return std::nullopt;
  }
  for (absl::string_view option : options) {
    if (*value == option) {
      return value;
    }
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
  if (!ok) {
    return std::nullopt;
  }
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
      for (const YAML::Node& s : merge) {
        sources.push_back(s);
      }
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
        if (find(text) != out.end()) {
          continue;
        }
        out.push_back(MapEntry{std::move(text), key.Mark(), value});
      }
    }
    if (sources.empty()) {
      diag.Add(merge.Mark(), Field(where, "<<"), "expected a map to merge");
    }
  }
  return out;
}

Record::Record(Diagnostics& diag, const YAML::Node& map, std::string where)
    : diag_(diag), where_(std::move(where)), mark_(map.Mark()) {
  for (MapEntry& e : MapEntries(diag_, map, where_)) {
    slots_.push_back(Slot{std::move(e), false});
  }
}

const Record::Slot* Record::Find(absl::string_view key) const {
  for (const Slot& s : slots_) {
    if (s.entry.key == key) {
      return &s;
    }
  }
  return nullptr;
}

Record::Slot* Record::Find(absl::string_view key) {
  for (Slot& s : slots_) {
    if (s.entry.key == key) {
      return &s;
    }
  }
  return nullptr;
}

const YAML::Node* Record::Take(absl::string_view key) {
  Slot* slot = Find(key);
  if (slot == nullptr) {
    return nullptr;
  }
  slot->used = true;
  if (slot->entry.value.IsNull()) {
    return nullptr;
  }
  return &slot->entry.value;
}

bool Record::Has(absl::string_view key) const {
  const Slot* slot = Find(key);
  return slot != nullptr && !slot->entry.value.IsNull();
}

const YAML::Node* Record::Peek(absl::string_view key) const {
  const Slot* slot = Find(key);
  if (slot == nullptr || slot->entry.value.IsNull()) {
    return nullptr;
  }
  return &slot->entry.value;
}

bool Record::NonEmpty(absl::string_view key) const {
  const YAML::Node* v = Peek(key);
  if (v == nullptr) {
    return false;
  }
  if (v->IsSequence() || v->IsMap()) {
    return v->size() > 0;
  }
  return !(v->IsScalar() && v->Scalar().empty());
}

YAML::Mark Record::ValueMark(absl::string_view key) const {
  const Slot* slot = Find(key);
  if (slot == nullptr) {
    return mark_;
  }
  if (slot->entry.value.IsNull()) {
    return slot->entry.key_mark;
  }
  return slot->entry.value.Mark();
}

YAML::Mark Record::KeyMark(absl::string_view key) const {
  const Slot* slot = Find(key);
  return slot == nullptr ? mark_ : slot->entry.key_mark;
}

std::optional<std::string> Record::String(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadString(diag_, *v, Field(where_, key));
}

std::optional<int64_t> Record::Integer(absl::string_view key, int64_t lo, int64_t hi) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadInteger(diag_, *v, Field(where_, key), lo, hi);
}

std::optional<double> Record::Number(absl::string_view key, double lo, double hi) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadNumber(diag_, *v, Field(where_, key), lo, hi);
}

std::optional<bool> Record::Bool(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadBool(diag_, *v, Field(where_, key));
}

std::optional<std::string> Record::OneOf(absl::string_view key,
                                         std::initializer_list<absl::string_view> options) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadOneOf(diag_, *v, Field(where_, key), options);
}

std::optional<std::vector<std::string>> Record::Strings(absl::string_view key, bool set) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  return ReadStrings(diag_, *v, Field(where_, key), set);
}

std::optional<std::vector<std::string>> Record::Tags(absl::string_view key) {
  const YAML::Node* v = Take(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::string where = Field(where_, key);
  bool ok = ForEachElement(diag_, *v, where, /*set=*/true,
                           [&](const YAML::Node& element, const std::string& element_where) {
                             std::optional<std::string> tag =
                                 ReadString(diag_, element, element_where);
                             if (!tag) {
                               return;
                             }
                             if (auto err = CheckTag(*tag)) {
                               diag_.Add(element.Mark(), element_where, *err);
                               return;
                             }
                             out.push_back(std::move(*tag));
                           });
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

void Record::AcceptEntityExtras() {
  String("_comment");
  if (const YAML::Node* v = Take("_ignore")) {
    if (!v->IsSequence()) {
      diag_.Add(v->Mark(), Field(where_, "_ignore"), "expected an array");
    }
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
    if (!s.used) {
      diag_.Add(s.entry.key_mark, Field(where_, s.entry.key), "unknown field");
    }
  }
}

bool ExpectMap(Diagnostics& diag, const YAML::Node& node, const std::string& where,
               absl::string_view what) {
  if (node.IsMap()) {
    return true;
  }
  diag.Add(node.Mark(), where, what);
  return false;
}

}  // namespace sluice::config::internal

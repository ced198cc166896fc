// SPDX-License-Identifier: Apache-2.0
// YAML walking for the declarative loader: an error sink, typed reads that record Kong-worded
// errors, and records that reject unknown keys. Scalar typing lives in scalar.h. Internal to
// core/config.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include <yaml-cpp/yaml.h>

#include "core/config/config.h"

namespace sluice::config::internal {

// yaml-cpp marks are 0-based (and -1 when unknown); ours are 1-based with 0 = unknown.
Mark ToMark(const YAML::Mark& mark);

// "a" + "b" -> "a.b" (just "b" when `where` is empty).
std::string Field(absl::string_view where, absl::string_view key);

// "a" + 3 -> "a[3]".
std::string Index(absl::string_view where, size_t i);

// Collects the errors of one load. Each message reads `<where>: <what>` (just `<what>` when
// `where` is empty).
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void Add(const YAML::Mark& mark, absl::string_view where, absl::string_view what);
  void Add(Mark mark, absl::string_view where, absl::string_view what);

  size_t count() const { return errors_.size(); }

  // The errors ordered by position (line, then column); equal positions keep report order.
  std::vector<Error> TakeSorted();

 private:
  std::string file_;
  std::vector<Error> errors_;
};

// Typed reads of one node. On a mismatch they record `<where>: <Kong message>` at the node and
// return nullopt. Integer/number ranges are inclusive.
std::optional<std::string> ReadString(Diagnostics& diag, const YAML::Node& node,
                                      const std::string& where);
std::optional<int64_t> ReadInteger(Diagnostics& diag, const YAML::Node& node,
                                   const std::string& where, int64_t lo, int64_t hi);
std::optional<double> ReadNumber(Diagnostics& diag, const YAML::Node& node,
                                 const std::string& where, double lo, double hi);
std::optional<bool> ReadBool(Diagnostics& diag, const YAML::Node& node, const std::string& where);
std::optional<std::string> ReadOneOf(Diagnostics& diag, const YAML::Node& node,
                                     const std::string& where,
                                     std::initializer_list<absl::string_view> options);

// Calls `fn(element, "<where>[i]")` for each element of a sequence. A non-sequence records
// `expected an array` (or `expected a set` when `set`) and returns false.
bool ForEachElement(Diagnostics& diag, const YAML::Node& node, const std::string& where, bool set,
                    const std::function<void(const YAML::Node&, const std::string&)>& fn);

// An array/set of strings; elements of the wrong type are reported and skipped. nullopt when
// the node is not a sequence.
std::optional<std::vector<std::string>> ReadStrings(Diagnostics& diag, const YAML::Node& node,
                                                    const std::string& where, bool set);

// One key of a map: the key as text, where the key sits, and its value.
struct MapEntry {
  std::string key;
  YAML::Mark key_mark;
  YAML::Node value;
};

// The entries of a map node in file order, with YAML merge keys (`<<: *anchor`) applied (keys
// written in the map win over merged ones). A key written twice is recorded as
// `<where>.<key>: duplicate key` and only its first occurrence is kept.
std::vector<MapEntry> MapEntries(Diagnostics& diag, const YAML::Node& map,
                                 const std::string& where);

// A map read as a Kong record. Each getter consumes its key; Finish() reports every key no
// getter asked for as `<where>.<key>: unknown field` at the key. A key whose value is null
// counts as absent (Kong's null = unset).
class Record {
 public:
  // `map` must be a map node (check with ExpectMap first).
  Record(Diagnostics& diag, const YAML::Node& map, std::string where);

  const std::string& where() const { return where_; }

  const YAML::Mark& mark() const { return mark_; }

  Diagnostics& diag() { return diag_; }

  // The value of `key`, or nullptr when absent or null. Consumes the key.
  const YAML::Node* Take(absl::string_view key);
  // True when `key` is present with a non-null value. Does not consume it.
  bool Has(absl::string_view key) const;
  // The value of `key` without consuming it, or nullptr when absent or null.
  const YAML::Node* Peek(absl::string_view key) const;
  // True when `key` holds what Kong's is_nonempty() accepts: anything but null, "", [] or {}.
  // Validity is not checked. Does not consume the key.
  bool NonEmpty(absl::string_view key) const;
  // Where the value of `key` sits (its key when the value is empty, the record when absent).
  YAML::Mark ValueMark(absl::string_view key) const;
  // Where `key` was written (the record's own mark when absent).
  YAML::Mark KeyMark(absl::string_view key) const;

  std::optional<std::string> String(absl::string_view key);
  std::optional<int64_t> Integer(absl::string_view key, int64_t lo, int64_t hi);
  std::optional<double> Number(absl::string_view key, double lo, double hi);
  std::optional<bool> Bool(absl::string_view key);
  std::optional<std::string> OneOf(absl::string_view key,
                                   std::initializer_list<absl::string_view> options);
  std::optional<std::vector<std::string>> Strings(absl::string_view key, bool set);
  // `tags`: a set of strings, each checked with Kong's tag rule.
  std::optional<std::vector<std::string>> Tags(absl::string_view key = "tags");

  // Accepts the entity-level extras Kong allows everywhere: `_comment` (string), `_ignore`
  // (array of anything), and the auto timestamps `created_at`/`updated_at` (integers, ignored).
  void AcceptEntityExtras();

  // Reports `required field missing` for `key` at the record's mark.
  void Missing(absl::string_view key);

  // Records an error about `key`, at its value (or the record when absent).
  void Error(absl::string_view key, absl::string_view what);

  void Finish();

 private:
  struct Slot {
    MapEntry entry;
    bool used = false;
  };

  const Slot* Find(absl::string_view key) const;
  Slot* Find(absl::string_view key);

  Diagnostics& diag_;
  std::string where_;
  YAML::Mark mark_;
  std::vector<Slot> slots_;
};

// Records `expected a record` (or `what`) unless `node` is a map.
bool ExpectMap(Diagnostics& diag, const YAML::Node& node, const std::string& where,
               absl::string_view what = "expected a record");

}  // namespace sluice::config::internal

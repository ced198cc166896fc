// SPDX-License-Identifier: Apache-2.0
// Request/response header fields as views into the connection's read buffer: parsing copies
// nothing, and a map is reused across requests so steady state allocates nothing.
#pragma once

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

#include "core/common/strings.h"

namespace sluice::http {

// One header field. Views point into memory owned by whoever filled the map (the connection's
// read buffer); they stay valid until that owner clears the map.
struct HeaderField {
  absl::string_view name;   // as received (case preserved)
  absl::string_view value;  // leading/trailing whitespace removed
};

// An ordered multimap of header fields with case-insensitive lookup. Not thread-safe; lives on
// the worker that owns the connection.
class HeaderMap {
 public:
  void Clear() { fields_.clear(); }

  void Add(absl::string_view name, absl::string_view value) { fields_.push_back({name, value}); }

  size_t size() const { return fields_.size(); }

  bool empty() const { return fields_.empty(); }

  const HeaderField& operator[](size_t i) const { return fields_[i]; }

  HeaderField& operator[](size_t i) { return fields_[i]; }

  auto begin() const { return fields_.begin(); }

  auto end() const { return fields_.end(); }

  // The first field named `name` (case-insensitive), or nullptr.
  const HeaderField* Find(absl::string_view name) const {
    for (const auto& f : fields_) {
      if (IEquals(f.name, name))
        return &f;
    }
    return nullptr;
  }

  // The value of the first field named `name`, or an empty view when absent.
  absl::string_view Get(absl::string_view name) const {
    const HeaderField* f = Find(name);
    return f ? f->value : absl::string_view();
  }

  // Calls fn(value) for every field named `name` in order; fn returns false to stop.
  template <typename Fn>
  void ForEach(absl::string_view name, Fn&& fn) const {
    for (const auto& f : fields_) {
      if (IEquals(f.name, name) && !fn(f.value))
        return;
    }
  }

 private:
  absl::InlinedVector<HeaderField, 24> fields_;
};

}  // namespace sluice::http

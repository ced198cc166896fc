// SPDX-License-Identifier: Apache-2.0
// Small ASCII string helpers for the data path; absl::string_view is core's one view type.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace sluice {

// Converts between the standard library view (SDK, filter.hpp) and core's absl view.
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }

inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

// Case-insensitive ASCII equality (HTTP header names, tokens).
inline bool IEquals(absl::string_view a, absl::string_view b) {
  return absl::EqualsIgnoreCase(a, b);
}

// Trims optional whitespace (SP / HTAB) from both ends, as HTTP field values allow.
inline absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Grows `span` to also cover [at, at + len). A parser reports a token split across reads in
// pieces; they are contiguous as long as the buffer holding them does not move.
inline void ExtendView(absl::string_view* span, const char* at, size_t len) {
  if (span->data() == nullptr) {
    *span = absl::string_view(at, len);
  } else {
    *span = absl::string_view(span->data(), static_cast<size_t>(at + len - span->data()));
  }
}

}  // namespace sluice

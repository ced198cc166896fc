// SPDX-License-Identifier: Apache-2.0
// Process-wide leveled logging to stderr. Control-plane and error paths only: the request path
// logs nothing at info level (access logs go through core/proxy/access_log).
#pragma once

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace sluice::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug" | "info" | "warn" | "error"; false for anything else.
bool ParseLevel(absl::string_view text, Level* out);

void SetLevel(Level level);

bool Enabled(Level level);

// Writes one line "<time> [level] message" to stderr with a single write(2), so lines from
// different threads never interleave.
void Write(Level level, absl::string_view message);

template <typename... Args>
void Debug(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  if (Enabled(Level::kDebug))
    Write(Level::kDebug, absl::StrFormat(fmt, args...));
}

template <typename... Args>
void Info(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  if (Enabled(Level::kInfo))
    Write(Level::kInfo, absl::StrFormat(fmt, args...));
}

template <typename... Args>
void Warn(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  if (Enabled(Level::kWarn))
    Write(Level::kWarn, absl::StrFormat(fmt, args...));
}

template <typename... Args>
void Error(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
  if (Enabled(Level::kError))
    Write(Level::kError, absl::StrFormat(fmt, args...));
}

}  // namespace sluice::log

// SPDX-License-Identifier: Apache-2.0
#include "core/common/log.h"

#include <atomic>
#include <string>
#include <time.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace sluice::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

constexpr absl::string_view kNames[] = {"debug", "info", "warn", "error"};

}  // namespace

bool ParseLevel(absl::string_view text, Level* out) {
  for (int i = 0; i < 4; ++i) {
    if (text == kNames[i]) {
      *out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, absl::string_view message) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts;
  gmtime_r(&ts.tv_sec, &parts);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
  std::string line = absl::StrFormat("%s.%03dZ [%s] %s\n", stamp, ts.tv_nsec / 1000000,
                                     kNames[static_cast<int>(level)], message);
  // One write per line; a short write to stderr is not worth retrying.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace sluice::log

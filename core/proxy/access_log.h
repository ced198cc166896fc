// SPDX-License-Identifier: Apache-2.0
// The access log: one line per request, buffered per worker and written once per loop turn, so
// a busy worker pays one write(2) for many requests and an idle one shows each line at once.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include <uv.h>

namespace sluice::proxy {

struct AccessRecord {
  absl::string_view client_ip;
  absl::string_view method;
  absl::string_view target;
  bool http10 = false;
  int status = 0;
  uint64_t bytes_sent = 0;
  int64_t upstream_ms = -1;  // -1 = no upstream
  uint64_t total_ms = 0;
  absl::string_view route;  // route name or id, empty when none matched
};

// One per worker; `fd` is shared (stderr or a file opened O_APPEND) and each flush is one
// write(2), so lines of different workers never interleave.
class AccessLog {
 public:
  AccessLog(uv_loop_t* loop, int fd);
  ~AccessLog();

  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Append(const AccessRecord& r);

  void Flush();

 private:
  int fd_;
  std::string buf_;
  time_t stamp_sec_ = 0;
  char stamp_[32] = {0};
  uv_check_t* check_;
};

}  // namespace sluice::proxy

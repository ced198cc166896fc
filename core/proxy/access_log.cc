// SPDX-License-Identifier: Apache-2.0
#include "core/proxy/access_log.h"

#include <time.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace sluice::proxy {

AccessLog::AccessLog(uv_loop_t* loop, int fd) : fd_(fd), check_(new uv_check_t) {
  buf_.reserve(16 * 1024);
  uv_check_init(loop, check_);
  check_->data = this;
  uv_check_start(check_, [](uv_check_t* c) { static_cast<AccessLog*>(c->data)->Flush(); });
  uv_unref(reinterpret_cast<uv_handle_t*>(check_));
}

AccessLog::~AccessLog() {
  Flush();
  uv_close(reinterpret_cast<uv_handle_t*>(check_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
}

void AccessLog::Append(const AccessRecord& r) {
  time_t now = time(nullptr);
  if (now != stamp_sec_) {
    stamp_sec_ = now;
    tm parts;
    gmtime_r(&now, &parts);
    strftime(stamp_, sizeof stamp_, "%Y-%m-%dT%H:%M:%SZ", &parts);
  }
  absl::StrAppend(&buf_, stamp_, " ", r.client_ip, " \"", r.method, " ", r.target,
                  r.http10 ? " HTTP/1.0\" " : " HTTP/1.1\" ", r.status, " ", r.bytes_sent);
  if (r.upstream_ms >= 0) {
    absl::StrAppend(&buf_, " upstream_ms=", r.upstream_ms);
  } else {
    buf_.append(" upstream_ms=-");
  }
  absl::StrAppend(&buf_, " total_ms=", r.total_ms, " route=", r.route.empty() ? "-" : r.route,
                  "\n");
  if (buf_.size() > 12 * 1024)
    Flush();
}

void AccessLog::Flush() {
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n <= 0)
      break;  // a full disk must not stall the proxy; the lines are dropped
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

}  // namespace sluice::proxy

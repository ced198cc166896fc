// SPDX-License-Identifier: Apache-2.0
// Per-request state of one proxied exchange: the parsed request head, the upstream connection
// and response parser, and the write vectors of both directions. Recycled through the worker's
// free list, so steady-state requests allocate nothing.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include <llhttp.h>
#include <uv.h>

#include "core/balancer/picker.h"
#include "core/filter_host/chain.h"
#include "core/http/header_map.h"
#include "core/http/known_headers.h"
#include "core/proxy/context.h"
#include "core/router/router.h"

namespace sluice::proxy {

// Appends "name: value\r\n".
inline void AppendHeaderLine(std::string* out, absl::string_view name, absl::string_view value) {
  out->append(name.data(), name.size());
  out->append(": ", 2);
  out->append(value.data(), value.size());
  out->append("\r\n", 2);
}

// A bounded list of buffers for one uv_write, with room for the chunk-size lines it needs when
// re-encoding a body as chunked. The memory the buffers point to must stay put until the write
// completes.
class WriteBatch {
 public:
  static constexpr size_t kMaxBufs = 48;

  void Clear() {
    count_ = 0;
    lines_ = 0;
  }

  bool empty() const { return count_ == 0; }

  // True when a chunk (size line, data, CRLF) and a final "0\r\n\r\n" still fit.
  bool HasRoomForChunk() const { return count_ + 4 <= kMaxBufs; }

  void Add(const char* data, size_t len) {
    if (len > 0)
      bufs_[count_++] = uv_buf_init(const_cast<char*>(data), len);
  }

  // Adds `data` framed as one chunk of the chunked transfer coding.
  void AddChunk(const char* data, size_t len);

  void AddLastChunk() { Add("0\r\n\r\n", 5); }

  // Drops the first `n` bytes (a partial write went out); they must be fewer than bytes().
  void Consume(size_t n);

  uv_buf_t* bufs() { return bufs_; }

  unsigned count() const { return count_; }

  size_t bytes() const;

 private:
  uv_buf_t bufs_[kMaxBufs];
  char line_storage_[kMaxBufs / 3 + 1][20];
  unsigned count_ = 0;
  unsigned lines_ = 0;
};

// Where an exchange stands; picks what the shared timer means when it fires.
enum class Phase : uint8_t {
  kHead,        // reading the request head
  kConnecting,  // waiting for the upstream connect
  kUpstream,    // request sent or sending; waiting for / reading the response
  kReplying,    // a local reply is being written
  kFilters,     // a filter paused the request side; waiting for it to resume
  kFilterBody,  // reading the whole request body for a body filter, before going upstream
};

// Which paused filter phase an exchange waits for (Session::OnFilterResume).
enum class FilterWait : uint8_t {
  kNone,
  kRequestHeaders,
  kRequestBody,
  kResponseHeaders,  // an upstream response head is held
  kResponseReply,    // a response hook replaced the upstream response (not a pause)
  kReplyHeaders,     // a local reply's head is held
};

struct Exchange {
  // --- request (views into the session's read buffer until the head is serialised) ---
  http::HeaderMap req_headers;
  absl::string_view target;
  absl::string_view field;  // header field being parsed
  absl::string_view value;
  uint8_t method = 0;
  bool http10 = false;
  bool keep_alive = true;
  bool head_done = false;
  bool req_chunked = false;
  bool req_has_body = false;
  bool req_complete = false;  // message complete seen by the parser
  bool is_head = false;
  bool idempotent = false;
  bool wants_plain = false;      // Accept: text/plain, for gateway-generated errors
  bool expect_continue = false;  // answer "100 Continue" ourselves once upstream is ready
  uint64_t req_body_bytes = 0;
  std::string norm_path;
  std::string up_path;
  std::string out;         // serialised upstream request head
  std::string log_target;  // request target kept for the access log
  std::string log_method;
  http::ConnectionTokens connection_tokens;
  WriteBatch req_batch;
  uv_write_t up_wreq;
  bool up_write_pending = false;

  // --- routing ---
  WorkerSnapshot* snap = nullptr;
  const config::Route* route = nullptr;
  const ServiceRoute* service = nullptr;
  router::MatchResult match;

  // --- the target of the current attempt ---
  net::Address up_addr;
  const std::string* host_header = nullptr;  // Host for the upstream unless preserve_host
  balancer::Picker* picker = nullptr;        // the service names an upstream: its balancer
  balancer::Selection sel;                   // picked target, until its attempt is reported
  uint64_t attempt_start_ns = 0;
  uint64_t up_latency_us = 0;  // attempt start -> response head
  int up_status = 0;           // the upstream's final status (filters may answer another)

  // --- upstream ---
  upstream::Connection* up = nullptr;
  int attempts = 0;
  llhttp_t rparser;
  char* up_buf = nullptr;
  uint32_t up_end = 0;        // bytes held in up_buf
  uint32_t up_parse_pos = 0;  // bytes of up_buf already parsed
  http::HeaderMap resp_headers;
  absl::string_view resp_field;
  absl::string_view resp_value;
  absl::string_view resp_reason;
  int status = 0;
  bool skipping_informational = false;
  bool resp_started = false;  // response head handed to the client
  bool resp_complete = false;
  bool chunked_out = false;  // re-encoding the body as chunked for the client
  bool close_after = false;  // close the client connection after this response
  bool up_reusable = false;
  std::string resp_head;
  WriteBatch resp_batch;
  uv_write_t client_wreq;
  uint64_t bytes_sent = 0;
  Phase phase = Phase::kHead;

  // --- filters (only when the route's chain is not empty) ---
  bool filters = false;  // chain is active for this request
  bool buffer_req_body = false;
  bool resp_body_filters = false;
  FilterWait filter_wait = FilterWait::kNone;
  filter_host::RequestChain chain;
  filter_host::RequestView fview;
  std::string host_lc;
  std::string req_body;            // whole request body, for request body filters
  absl::string_view req_body_out;  // what they made of it (valid until chain.End)
  std::string resp_out;            // response body bytes the filters let through
  uint64_t head_bytes = 0;         // approximate size of the request head

  // --- timing (loop milliseconds) ---
  uint64_t start_ms = 0;
  uint64_t upstream_start_ms = 0;
  uint64_t upstream_headers_ms = 0;

  // Resets everything for a new request, keeping string capacities.
  void Reset();
};

}  // namespace sluice::proxy

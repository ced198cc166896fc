// SPDX-License-Identifier: Apache-2.0
// Runs one request through its filter chain: calls the hooks in order, applies their results
// (continue, stop with a local reply, pause and resume, body buffering), switches to the
// consumer's chain after consumer_set, and serves the host callbacks that concern a request.
// One RequestChain per in-flight request, on its worker; reusable across requests.
//
// ---------------------------------------------------------------------------------------------
// What the proxy must do (integration contract; everything on the request's worker):
//
// Process start / reload (main thread):
//   1. One FilterHost for the process (filter_host.h); Loader(filters_dir, &host.api()).
//   2. Chains::Build(config, loader, host) beside the router when building a Snapshot; store
//      it in the Snapshot (e.g. `std::unique_ptr<const filter_host::Chains> filters`). An error
//      is the validate/reload error (already `file:line:col: message` lines). Destroy it on the
//      main thread after every worker dropped its WorkerFilters for it.
//   3. The admin /metrics handler appends host.metrics().Render().
//
// Worker start / snapshot install (worker thread):
//   4. One WorkerHost(loop, index) per worker, created on the worker thread before serving
//      and destroyed at shutdown before the final uv_run / uv_loop_close.
//   5. When a worker installs a snapshot, create WorkerFilters(worker_host, *snap->filters) and
//      keep it with the WorkerSnapshot; delete it when the WorkerSnapshot is freed.
//
// Per request (RequestView fields are views the proxy keeps valid until End):
//   6. After routing (or on a 404, with route -1): fill a RequestView (method, normalised path,
//      raw query, host, scheme, client address/port, target, request id, route/service
//      pointers, request_headers = &ex->req_headers, start time) and call
//      Begin(worker_filters, route_index, &view, OnFilterResume, exchange).
//      For a 404, skip to step 9 (Kong runs only global plugins' response hooks and log).
//   7. RunRequestHeaders(end_of_stream) before connecting upstream:
//        kContinue   -> build the upstream head from request_headers (the map may have changed;
//                       new views point into this chain's arena), using upstream_path() /
//                       upstream_query() when set instead of the computed path / query.
//        kPause      -> stop reading the client; wait for OnFilterResume(owner, flow), which
//                       reports the same outcomes later (from a loop callback, never inline).
//        kLocalReply -> do not connect upstream; go to 9 with the local reply.
//      Request body (only if has_request_body_filters(); else stream as today): pass each
//      chunk to RunRequestBody(chunk, eos) and forward body_output() (may be empty while a
//      filter buffers; valid until the next Run*Body call, so write it before feeding the next
//      chunk). kLocalReply -> abandon the upstream request, go to 9. kPause as above.
//   8. Response head from upstream: set view.response_headers = &ex->resp_headers and
//      view.response_status, then RunResponseHeaders(eos) before serialising the head:
//        kContinue -> send (the map may have changed); kPause -> hold the head, wait for
//        OnFilterResume; kLocalReply -> drop the upstream response (connection not reusable
//        unless fully read) and go to 9.
//      Response body (only if has_response_body_filters()): RunResponseBody(chunk, eos) and
//      write body_output(); kReset -> reset the client connection (the head is gone).
//      When has_response_body_filters() and a filter may change the length, Content-Length is
//      removed by that filter in its headers hook; the proxy then sends chunked.
//   9. Local reply: set view.response_headers to a cleared map and view.response_status to
//      local_reply_status(), call LoadLocalReply(view.response_headers) and then
//      RunResponseHeaders(true) (every filter of the chain sees the reply, Kong's order) and
//      RunResponseBody(local_reply_body(), true) when has_response_body_filters(); send
//      local_reply_status(), the map and the (possibly replaced) body. Content-Length is the
//      proxy's to set.
//  10. After the response was written (or the client went away): RunLog(), then End().
//      End() must also run when a request is abandoned in any phase (client reset, timeout,
//      shutdown); it calls on_request_destroy and invalidates refs, timers stay the filters'.
// ---------------------------------------------------------------------------------------------
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

#include <sluice/filter.h>

#include "core/config/config.h"
#include "core/filter_host/arena.h"
#include "core/filter_host/registry.h"
#include "core/filter_host/worker_host.h"
#include "core/http/header_map.h"
#include "core/router/router.h"

namespace sluice::filter_host {

// What the proxy tells the chain about a request. Plain views the proxy keeps valid from
// Begin to End; the chain never frees them.
struct RequestView {
  http::HeaderMap* request_headers = nullptr;
  http::HeaderMap* response_headers = nullptr;  // nullptr until response headers exist
  absl::string_view method;
  absl::string_view path;   // normalised, without the query
  absl::string_view query;  // without '?'
  absl::string_view host;   // lower-case, without port
  absl::string_view scheme;
  absl::string_view client_address;
  absl::string_view target;  // as received
  absl::string_view request_id;
  int client_port = 0;
  int response_status = 0;    // 0 until known
  int64_t start_time_ms = 0;  // Unix time
  // Running totals and latencies for the 1.1 facts (-1: not known).
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
  int64_t upstream_latency_ms = -1;
  int64_t proxy_latency_ms = -1;
  int64_t request_latency_ms = -1;
  const config::Route* route = nullptr;
  const config::Service* service = nullptr;
  const router::MatchResult* match = nullptr;  // the route's captures (uri_capture_get)
};

// Outcome of a phase, for the proxy.
enum class Flow : uint8_t {
  kContinue,    // go on (body: forward body_output())
  kPause,       // a filter paused; the resume callback will report the outcome
  kLocalReply,  // answer with local_reply_*() (step 9)
  kReset,       // response body phase: abort the client connection
};

// One filter's view of a request: a `sluice_request*` points to one of these (request arena).
struct Slot {
  RequestChain* chain = nullptr;
  const Instance* instance = nullptr;
  void* state = nullptr;
  bool created = false;  // on_request_new succeeded: on_request_destroy is owed
  bool failed = false;   // on_request_new failed: the filter is not called again
  bool buffering = false;
  std::string* buffer = nullptr;  // body bytes kept for BUFFER / body_replace (heap)
};

class RequestChain {
 public:
  // Called when a paused phase finished later: `owner` as given to Begin.
  using ResumeFn = void (*)(void* owner, Flow flow);

  // The most body bytes one filter may buffer (BUFFER) before 413 / reset.
  static constexpr size_t kMaxBufferedBody = 8 * 1024 * 1024;

  RequestChain() = default;

  ~RequestChain() { End(); }

  RequestChain(const RequestChain&) = delete;
  RequestChain& operator=(const RequestChain&) = delete;

  // Starts a request on `route` (-1: unmatched, global plugins only).
  void Begin(WorkerFilters& filters, int route, RequestView* view, ResumeFn on_resume, void* owner);

  bool active() const { return filters_ != nullptr; }

  WorkerHost* worker() const { return filters_ != nullptr ? &filters_->worker() : nullptr; }

  bool has_request_body_filters() const { return chain_ != nullptr && chain_->request_body; }

  bool has_response_body_filters() const { return chain_ != nullptr && chain_->response_body; }

  Flow RunRequestHeaders(bool end_of_stream);
  Flow RunRequestBody(absl::string_view chunk, bool end_of_stream);
  Flow RunResponseHeaders(bool end_of_stream);
  Flow RunResponseBody(absl::string_view chunk, bool end_of_stream);
  void RunLog();

  // Ends the request: on_request_destroy for every filter that has state, refs invalidated,
  // arena freed. Idempotent.
  void End();

  // Body bytes to forward after a body phase returned (or resumed with) kContinue. Valid until
  // the next Run*Body call or End.
  absl::string_view body_output() const { return body_output_; }

  // A reply the gateway itself produces (404, 502, 504, ...) while a chain is active: it then
  // goes through the response hooks like a filter's local reply (step 9).
  void HostReply(int status, absl::string_view content_type, absl::string_view body);

  // The local reply after kLocalReply.
  int local_reply_status() const { return reply_status_; }

  absl::string_view local_reply_body() const { return reply_body_; }

  // Replaces the contents of `headers` with the reply's fields (views into this chain).
  void LoadLocalReply(http::HeaderMap* headers) const;

  // Upstream rewrites made by filters; nullopt when none.
  std::optional<absl::string_view> upstream_path() const { return upstream_path_; }

  std::optional<absl::string_view> upstream_query() const { return upstream_query_; }

  std::optional<absl::string_view> upstream_method() const { return upstream_method_; }

  // The consumer index set by consumer_set, or -1.
  int consumer() const { return consumer_; }

  Arena& arena() { return arena_; }

  // --- host callbacks (FilterHost forwards them here with the calling filter's slot) ---
  sluice_status Info(Slot* s, sluice_info id, sluice_str* out);
  sluice_status InfoInt(Slot* s, sluice_info id, int64_t* out);
  sluice_status HeaderGet(Slot* s, sluice_header_map map, sluice_str name, size_t index,
                          sluice_str* out);
  sluice_status HeaderCount(Slot* s, sluice_header_map map, size_t* out);
  sluice_status HeaderAt(Slot* s, sluice_header_map map, size_t index, sluice_header* out);
  sluice_status HeaderWrite(Slot* s, sluice_header_map map, sluice_str name, sluice_str value,
                            int op);  // op: 0 set, 1 add, 2 remove
  sluice_status UpstreamSet(Slot* s, sluice_str value, bool path);
  sluice_status UpstreamMethodSet(Slot* s, sluice_str method);
  sluice_status UriCapture(Slot* s, sluice_str name, sluice_str* out);
  sluice_status BodyGet(Slot* s, sluice_str* out);
  sluice_status BodyReplace(Slot* s, sluice_str data);
  sluice_status LocalReply(Slot* s, int32_t status, const sluice_header* headers, size_t n,
                           sluice_str body);
  sluice_status SetConsumer(Slot* s, sluice_str key);
  sluice_status SetCredential(Slot* s, sluice_str credential);
  sluice_status Resume(Slot* s);
  sluice_status NewRef(Slot* s, sluice_request_ref** out);
  void Log(Slot* s, sluice_log_level level, absl::string_view message);

  // Mailbox tasks (worker thread).
  void ResumeFromRef(Slot* s);
  void RunDeferred();

 private:
  enum class Phase : uint8_t {
    kIdle,
    kRequestHeaders,
    kRequestBody,
    kResponseHeaders,
    kResponseBody,
    kLog,
  };

  bool OnWorker() const;
  Slot* SlotFor(const Instance* in);
  size_t PositionAfter(const Instance* in) const;
  Flow RunHeaders(bool request);
  Flow RunBody(bool request);
  Flow ReplyFromFailure(const Instance* in, const char* why);
  void Defer(Flow flow);
  http::HeaderMap* Map(sluice_header_map map, sluice_status* err) const;
  bool MapWritable(sluice_header_map map) const;

  WorkerFilters* filters_ = nullptr;
  const Chains* chains_ = nullptr;
  const Chain* chain_ = nullptr;
  RequestView* view_ = nullptr;
  ResumeFn on_resume_ = nullptr;
  void* owner_ = nullptr;
  int route_ = -1;
  int consumer_ = -1;
  absl::string_view credential_;  // in arena_

  Phase phase_ = Phase::kIdle;
  size_t pos_ = 0;              // next filter of chain_ in the current phase
  bool end_of_stream_ = false;  // of the current phase
  Slot* in_hook_ = nullptr;     // the filter whose hook is running
  Slot* paused_ = nullptr;      // the filter that paused the current phase
  bool resume_in_hook_ = false;
  bool request_head_done_ = false;
  bool response_head_done_ = false;
  bool deferred_ = false;  // a deferred continuation is queued
  Flow deferred_flow_ = Flow::kContinue;

  absl::InlinedVector<Slot*, 16> slots_;
  RequestRef* refs_ = nullptr;

  absl::string_view body_current_;  // what body_get shows in a body hook
  absl::string_view body_output_;

  bool replied_ = false;
  bool new_reply_ = false;  // send_local_reply ran during the current hook
  int reply_status_ = 0;
  std::vector<std::pair<std::string, std::string>> reply_headers_;
  std::string reply_body_;

  std::optional<absl::string_view> upstream_path_;
  std::optional<absl::string_view> upstream_query_;
  std::optional<absl::string_view> upstream_method_;

  Arena arena_;
};

}  // namespace sluice::filter_host

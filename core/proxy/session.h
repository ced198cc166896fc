// SPDX-License-Identifier: Apache-2.0
// One client (downstream) connection and the request it is serving. Requests on a connection
// are served one at a time, so pipelined responses leave in request order. An idle keep-alive
// session holds no read buffer and no exchange: only its socket, timer and parser.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"
#include <llhttp.h>
#include <uv.h>

#include "core/proxy/context.h"
#include "core/proxy/exchange.h"

namespace sluice::proxy {

class Session {
 public:
  // Accepts a pending connection from `server`, a listener on `listen_port`.
  static void Accept(WorkerContext* ctx, uv_stream_t* server, int listen_port);

  // Closes an idle session now, or marks a busy one to close after its response (draining).
  void Drain();

  // Closes the connection now, whatever it is doing (end of a drain).
  void ForceClose() { Close(); }

  Session* next = nullptr;  // WorkerContext::sessions_head list
  Session* prev = nullptr;

 private:
  explicit Session(WorkerContext* ctx);
  ~Session();

  // --- client side (session.cc) ---
  static void OnAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void OnTimer(uv_timer_t* t);
  static void OnClientWrite(uv_write_t* req, int status);
  static int OnMessageBegin(llhttp_t* p);
  static int OnUrl(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnHeaderValueComplete(llhttp_t* p);
  static int OnHeadersComplete(llhttp_t* p);
  static int OnBody(llhttp_t* p, const char* at, size_t len);
  static int OnChunkHeader(llhttp_t* p);
  static int OnMessageComplete(llhttp_t* p);
  static const llhttp_settings_t kRequestSettings;

  void ProcessInput();
  void StartRequest();
  void Reply(int status, absl::string_view message, bool close);
  void WriteToClient();
  void ClientWriteDone();
  void UpstreamWriteDone();
  // Writes `batch` at once if the socket takes it all (true: no callback follows), else queues
  // the rest with uv_write(req, cb) (false; *err set if even that failed).
  bool WriteNow(uv_stream_t* stream, WriteBatch* batch, uv_write_t* req, uv_write_cb cb, int* err);
  void FinishExchange();
  void ReleaseReadBuffer();
  void StartReading();
  void StopReading();
  void ArmTimer(uint64_t ms);
  void Close();
  void MaybeDelete();
  void CompactInput();

  // --- upstream side (upstream_side.cc) ---
  static void OnUpstreamConnect(void* owner, int status);
  static void OnUpstreamAlloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void OnUpstreamRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void OnUpstreamWrite(uv_write_t* req, int status);
  static int OnRespHeaderField(llhttp_t* p, const char* at, size_t len);
  static int OnRespHeaderValue(llhttp_t* p, const char* at, size_t len);
  static int OnRespHeaderValueComplete(llhttp_t* p);
  static int OnRespStatus(llhttp_t* p, const char* at, size_t len);
  static int OnRespHeadersComplete(llhttp_t* p);
  static int OnRespBody(llhttp_t* p, const char* at, size_t len);
  static int OnRespChunkHeader(llhttp_t* p);
  static int OnRespMessageComplete(llhttp_t* p);
  static const llhttp_settings_t kResponseSettings;

  void ForwardRequest();
  void ConnectUpstream();
  void StartUpstreamIO();
  void ReadUpstream();
  void SendToUpstream();
  void ParseResponse();
  void BuildUpstreamHead();
  void BuildResponseHead();
  void UpstreamFailed(int status, bool may_retry);
  // Chooses the target of the next attempt (the balancer's pick, avoiding `avoid`, for an
  // upstream; the resolved host otherwise). False: nothing can take it.
  bool PickTarget(int avoid);

  // Whether a failed attempt may be sent again elsewhere: an idempotent method whose body (if
  // any) is held whole, so nothing of it is lost.
  bool Replayable() const {
    return ex_->idempotent && (!ex_->req_has_body || ex_->buffer_req_body);
  }

  // Reports the attempt on the picked target to its balancer (health, breaker, counts).
  void EndAttempt(balancer::Result::Kind kind, bool connecting = false);
  void ReleaseUpstream(bool reusable);
  void ArmUpstreamTimer();

  // --- filter chains (filter_side.cc); see core/filter_host/chain.h for the contract ---
  static void OnFilterResume(void* owner, filter_host::Flow flow);
  bool BeginFilters(int route, absl::string_view host);
  void AfterRequestHeaders(filter_host::Flow flow);
  void StartBodyBuffering();
  void AfterRequestBody(filter_host::Flow flow);
  void AfterResponseHeaders(filter_host::Flow flow);
  void PinRequestHead();
  void PinResponseHead();
  void ReplyThroughFilters(int status, absl::string_view message);
  void FilterReply();
  void SendFilterReply();
  void EndFilters();
  void WaitForFilter(FilterWait wait);

  uint64_t NowMs() const { return uv_now(ctx_->loop); }

  WorkerContext* ctx_;
  uv_tcp_t tcp_;
  uv_timer_t timer_;
  llhttp_t parser_;
  Exchange* ex_ = nullptr;
  char* in_ = nullptr;      // read buffer from ctx_->buffers, only while bytes are pending
  uint32_t in_end_ = 0;     // bytes held in in_
  uint32_t parse_pos_ = 0;  // bytes of in_ already parsed
  uint8_t open_handles_ = 0;
  bool reading_ = false;
  bool closing_ = false;
  bool client_write_pending_ = false;
  bool parse_error_ = false;
  uint8_t sync_depth_ = 0;
  uint16_t reject_status_ = 0;  // set by a parser callback that refuses the request (413, 431)
  // Nesting of completions run inline by WriteNow.
  static constexpr uint8_t kMaxSyncDepth = 4;
  uint8_t peer_len_ = 0;
  uint16_t listen_port_ = 0;
  uint16_t peer_port_ = 0;
  char peer_[46];  // client IP as text, for X-Forwarded-For, X-Real-IP and the access log
};

}  // namespace sluice::proxy

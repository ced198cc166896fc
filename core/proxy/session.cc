// SPDX-License-Identifier: Apache-2.0
// The client side of a session: accepting, reading and parsing requests (llhttp, strict mode),
// routing, local replies, writing responses, keep-alive and pipelining.
#include "core/proxy/session.h"

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include "core/common/log.h"
#include "core/http/known_headers.h"
#include "core/http/path.h"
#include "core/http/reply.h"
#include "core/proxy/access_log.h"

namespace sluice::proxy {
namespace {

Session* From(llhttp_t* p) { return static_cast<Session*>(p->data); }

constexpr size_t kMaxFreeExchanges = 1024;

bool IsIdempotent(uint8_t method) {
  switch (method) {
    case HTTP_GET:
    case HTTP_HEAD:
    case HTTP_OPTIONS:
    case HTTP_TRACE:
    case HTTP_PUT:
    case HTTP_DELETE:
      return true;
    default:
      return false;
  }
}

}  // namespace

const llhttp_settings_t Session::kRequestSettings = [] {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_message_begin = OnMessageBegin;
  s.on_url = OnUrl;
  s.on_header_field = OnHeaderField;
  s.on_header_value = OnHeaderValue;
  s.on_header_value_complete = OnHeaderValueComplete;
  s.on_headers_complete = OnHeadersComplete;
  s.on_body = OnBody;
  s.on_chunk_header = OnChunkHeader;
  s.on_message_complete = OnMessageComplete;
  return s;
}();

Session::Session(WorkerContext* ctx) : ctx_(ctx) {
  llhttp_init(&parser_, HTTP_REQUEST, &kRequestSettings);
  parser_.data = this;
  ++ctx_->sessions;
  next = ctx_->sessions_head;
  if (next)
    next->prev = this;
  ctx_->sessions_head = this;
  WorkerStats::Add(ctx_->stats->connections_active, 1);
  WorkerStats::Bump(ctx_->stats->connections_accepted);
}

void Session::MaybeDelete() {
  // Cancelled writes report back after uv_close; their requests live in the exchange.
  if (closing_ && open_handles_ == 0 && !client_write_pending_ &&
      (ex_ == nullptr || !ex_->up_write_pending)) {
    delete this;
  }
}

Session::~Session() {
  if (ex_ != nullptr) {
    if (ex_->up_buf != nullptr)
      ctx_->buffers.Put(ex_->up_buf);
    delete ex_;
  }
  if (in_ != nullptr)
    ctx_->buffers.Put(in_);
  if (prev)
    prev->next = next;
  if (next)
    next->prev = prev;
  if (ctx_->sessions_head == this)
    ctx_->sessions_head = next;
  --ctx_->sessions;
  WorkerStats::Add(ctx_->stats->connections_active, -1);
}

void Session::Accept(WorkerContext* ctx, uv_stream_t* server, int listen_port) {
  auto* s = new Session(ctx);
  s->listen_port_ = static_cast<uint16_t>(listen_port);
  uv_tcp_init(ctx->loop, &s->tcp_);
  uv_timer_init(ctx->loop, &s->timer_);
  s->tcp_.data = s;
  s->timer_.data = s;
  s->open_handles_ = 2;
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&s->tcp_)) != 0) {
    s->Close();
    return;
  }
  uv_tcp_nodelay(&s->tcp_, 1);
  sockaddr_storage peer;
  int len = sizeof peer;
  if (uv_tcp_getpeername(&s->tcp_, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    const void* src =
        peer.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&peer)->sin_addr);
    if (inet_ntop(peer.ss_family, src, s->peer_, sizeof s->peer_) != nullptr) {
      s->peer_len_ = static_cast<uint8_t>(strlen(s->peer_));
    }
    s->peer_port_ =
        ntohs(peer.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
  }
  s->ArmTimer(ctx->settings.client_header_timeout_ms);
  s->StartReading();
}

void Session::Drain() {
  if (ex_ == nullptr && in_end_ == 0) {
    Close();
  } else if (ex_ != nullptr) {
    ex_->close_after = true;
  }
}

// --- reading ---------------------------------------------------------------------------------

void Session::StartReading() {
  if (reading_ || closing_)
    return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), OnAlloc, OnRead);
}

void Session::StopReading() {
  if (!reading_)
    return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void Session::OnAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* s = static_cast<Session*>(h->data);
  if (s->in_ == nullptr) {
    s->in_ = s->ctx_->buffers.Get();
    s->in_end_ = s->parse_pos_ = 0;
  }
  // A full buffer yields a zero-length buffer, which libuv reports as UV_ENOBUFS.
  *buf = uv_buf_init(s->in_ + s->in_end_, BufferPool::kBufferSize - s->in_end_);
}

void Session::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* s = static_cast<Session*>(stream->data);
  if (s == nullptr || s->closing_)
    return;
  if (nread > 0) {
    if (s->ex_ == nullptr && s->in_end_ == 0) {
      // First byte of a request on a kept-alive connection: the header clock starts now.
      s->ArmTimer(s->ctx_->settings.client_header_timeout_ms);
    }
    s->in_end_ += static_cast<uint32_t>(nread);
    s->ProcessInput();
    return;
  }
  if (nread == 0)
    return;
  if (nread == UV_ENOBUFS) {
    if (s->ex_ != nullptr && s->ex_->head_done) {
      s->StopReading();  // body bytes wait until the buffer drains
    } else {
      s->Reply(431, http::DefaultMessage(431), true);
    }
    return;
  }
  if (s->ex_ != nullptr && s->ex_->head_done && s->ex_->req_complete && nread == UV_EOF) {
    // A half-close after a complete request: answer it, then close.
    s->StopReading();
    s->ex_->close_after = true;
    return;
  }
  // EOF or error from the client: nothing can be answered any more.
  s->Close();
}

void Session::CompactInput() {
  if (in_ == nullptr)
    return;
  if (parse_pos_ == in_end_) {
    in_end_ = parse_pos_ = 0;
    return;
  }
  if (parse_pos_ > 0) {
    memmove(in_, in_ + parse_pos_, in_end_ - parse_pos_);
    in_end_ -= parse_pos_;
    parse_pos_ = 0;
  }
}

void Session::ReleaseReadBuffer() {
  if (in_ != nullptr && in_end_ == parse_pos_) {
    ctx_->buffers.Put(in_);
    in_ = nullptr;
    in_end_ = parse_pos_ = 0;
  }
}

// Runs the parser over unparsed input. Stops when the head is complete (to route before the
// body is read), when a message completes (one request at a time) and whenever body spans are
// batched (they are written upstream straight from the read buffer, which must then stay put).
void Session::ProcessInput() {
  while (!closing_ && parse_pos_ < in_end_) {
    if (ex_ != nullptr && ex_->head_done) {
      if (ex_->phase == Phase::kFilterBody) {
        if (ex_->req_complete)
          break;
      } else {
        if (ex_->phase != Phase::kUpstream)
          return;  // the body waits for the upstream
        if (ex_->up_write_pending || ex_->req_complete || !ex_->req_batch.empty())
          break;
      }
    }
    llhttp_errno_t err = llhttp_execute(&parser_, in_ + parse_pos_, in_end_ - parse_pos_);
    if (err == HPE_OK) {
      parse_pos_ = in_end_;
    } else if (err == HPE_PAUSED) {
      parse_pos_ = static_cast<uint32_t>(llhttp_get_error_pos(&parser_) - in_);
      llhttp_resume(&parser_);
    } else if (err == HPE_PAUSED_UPGRADE) {
      // Past an upgrade request nothing is HTTP/1.1 we can read; its answer closes anyway.
      Close();
      return;
    } else {
      int status = reject_status_ != 0 ? reject_status_ : 400;  // our callbacks' verdicts first
      parse_error_ = true;
      StopReading();
      if (ex_ != nullptr && (ex_->resp_started || client_write_pending_)) {
        Close();  // the response is under way: the client can only see the connection end
      } else {
        Reply(status, http::DefaultMessage(status), true);
      }
      return;
    }
    if (ex_ != nullptr && ex_->head_done && ex_->phase == Phase::kHead) {
      // A body stays in the socket until the upstream can take it. Without one, reading goes
      // on (pipelined bytes just queue up), saving libuv an epoll_ctl pair per request.
      if (ex_->req_has_body)
        StopReading();
      StartRequest();
      return;  // resumed once the upstream is ready for the body
    }
  }
  if (closing_)
    return;
  if (ex_ == nullptr || !ex_->head_done) {
    // A head in progress must stay where it is: the parser's views point into it.
    if (ex_ == nullptr)
      CompactInput();
    if (in_end_ > ctx_->settings.max_header_bytes) {
      Reply(431, http::DefaultMessage(431), true);
      return;
    }
    if (ex_ == nullptr)
      ReleaseReadBuffer();
    StartReading();
    return;
  }
  if (ex_->phase == Phase::kFilterBody) {
    // The whole body is collected for a body filter before anything goes upstream.
    if (ex_->req_complete) {
      AfterRequestBody(ex_->chain.RunRequestBody(ex_->req_body, true));
      return;
    }
    ArmTimer(ctx_->settings.client_header_timeout_ms);
    CompactInput();
    StartReading();
    return;
  }
  if (ex_->phase != Phase::kUpstream)
    return;
  if (!ex_->req_batch.empty() && !ex_->up_write_pending) {
    SendToUpstream();
    return;
  }
  if (ex_->up_write_pending) {
    StopReading();  // backpressure: the upstream has not taken the last batch yet
    return;
  }
  if (ex_->req_complete)
    return;  // pipelined bytes wait in the buffer for this response
  CompactInput();
  StartReading();
}

// --- llhttp request callbacks ----------------------------------------------------------------

int Session::OnMessageBegin(llhttp_t* p) {
  Session* s = From(p);
  if (s->ex_ == nullptr) {
    auto& pool = s->ctx_->free_exchanges;
    if (pool.empty()) {
      s->ex_ = new Exchange;
    } else {
      s->ex_ = pool.back();
      pool.pop_back();
    }
  }
  s->ex_->Reset();
  s->ex_->start_ms = s->NowMs();
  return 0;
}

int Session::OnUrl(llhttp_t* p, const char* at, size_t len) {
  ExtendView(&From(p)->ex_->target, at, len);
  return 0;
}

// Trailers of a chunked body come through the same callbacks once the head is done; they are
// not forwarded, and the head's buffer has moved on, so they are ignored.
int Session::OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  Exchange* ex = From(p)->ex_;
  if (!ex->head_done)
    ExtendView(&ex->field, at, len);
  return 0;
}

int Session::OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Exchange* ex = From(p)->ex_;
  if (!ex->head_done)
    ExtendView(&ex->value, at, len);
  return 0;
}

int Session::OnHeaderValueComplete(llhttp_t* p) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  if (ex->head_done)
    return 0;
  if (ex->req_headers.size() >= s->ctx_->settings.max_header_count) {
    s->reject_status_ = 431;
    return -1;
  }
  ex->req_headers.Add(ex->field, TrimOws(ex->value));
  ex->field = ex->value = absl::string_view();
  return 0;
}

int Session::OnHeadersComplete(llhttp_t* p) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  ex->method = llhttp_get_method(p);
  ex->http10 = llhttp_get_http_major(p) == 1 && llhttp_get_http_minor(p) == 0;
  ex->keep_alive = llhttp_should_keep_alive(p) != 0;
  ex->req_chunked = (p->flags & F_CHUNKED) != 0;
  ex->req_has_body = ex->req_chunked || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
  ex->is_head = ex->method == HTTP_HEAD;
  // Upgrades (WebSocket, h2c) are not proxied: the request goes as a plain one without its
  // Upgrade/Connection fields, and the connection closes after the answer, since whatever the
  // client sends next is not HTTP/1.1 we could read.
  if (p->upgrade)
    ex->close_after = true;
  ex->idempotent = IsIdempotent(ex->method);
  uint64_t max_body = s->ctx_->settings.max_body_bytes;
  if (max_body > 0 && (p->flags & F_CONTENT_LENGTH) && p->content_length > max_body) {
    s->reject_status_ = 413;
    return -1;
  }
  ex->head_done = true;
  // Pause to route before reading a body. A bodyless request runs on to message-complete
  // (which pauses too), since after a pause here llhttp would report that only on more input.
  return ex->req_has_body ? HPE_PAUSED : 0;
}

int Session::OnBody(llhttp_t* p, const char* at, size_t len) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  ex->req_body_bytes += len;
  uint64_t max_body = s->ctx_->settings.max_body_bytes;
  if (max_body > 0 && ex->req_body_bytes > max_body) {
    s->reject_status_ = 413;
    return -1;
  }
  if (ex->buffer_req_body) {
    if (ex->req_body.size() + len > filter_host::RequestChain::kMaxBufferedBody) {
      s->reject_status_ = 413;
      return -1;
    }
    ex->req_body.append(at, len);
    return 0;
  }
  if (ex->req_chunked) {
    ex->req_batch.AddChunk(at, len);
  } else {
    ex->req_batch.Add(at, len);
  }
  return 0;
}

int Session::OnChunkHeader(llhttp_t* p) {
  // Pause before a chunk that would not fit in the batch; the batch is flushed, then resumed.
  Exchange* ex = From(p)->ex_;
  return ex->buffer_req_body || ex->req_batch.HasRoomForChunk() ? 0 : HPE_PAUSED;
}

int Session::OnMessageComplete(llhttp_t* p) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  if (ex->req_chunked && !ex->buffer_req_body)
    ex->req_batch.AddLastChunk();
  ex->req_complete = true;
  return HPE_PAUSED;
}

// --- routing ---------------------------------------------------------------------------------

void Session::StartRequest() {
  Exchange* ex = ex_;
  WorkerStats::Bump(ctx_->stats->requests);
  ex->log_method.assign(llhttp_method_name(static_cast<llhttp_method_t>(ex->method)));
  ex->log_target.assign(ex->target.data(), ex->target.size());

  int hosts = 0;
  absl::string_view host;
  for (const http::HeaderField& f : ex->req_headers) {
    http::HeaderId id = http::ClassifyHeader(f.name);
    if (id == http::HeaderId::kHost) {
      host = f.value;
      ++hosts;
    } else if (id == http::HeaderId::kAccept) {
      ex->wants_plain = absl::StartsWith(f.value, "text/plain");
    } else if (id == http::HeaderId::kConnection) {
      http::AddConnectionTokens(f.value, &ex->connection_tokens);
    }
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
  if (hosts > 1 || (hosts == 0 && !ex->http10)) {
    Reply(400, http::DefaultMessage(400), true);
    return;
  }
  absl::string_view path, query;
  bool has_query = false;
  http::SplitTarget(ex->target, &path, &query, &has_query);
  if (!http::NormalizePath(path, &ex->norm_path)) {
    Reply(400, http::DefaultMessage(400), true);
    return;
  }

  ex->snap = ctx_->Acquire();
  const Snapshot& snap = *ex->snap->snap;
  router::RequestView view;
  view.method = ex->log_method;
  view.host = host;
  view.path = ex->norm_path;
  view.headers = &ex->req_headers;
  view.listener_port = listen_port_;
  if (!snap.router->Match(view, &ex->match)) {
    BeginFilters(-1, host);  // Kong runs the global plugins' response and log hooks on a 404
    Reply(404, http::DefaultMessage(404), !ex->req_complete && ex->req_has_body);
    return;
  }
  ex->route = &snap.config.routes[ex->match.route];
  if (BeginFilters(ex->match.route, host)) {
    AfterRequestHeaders(ex->chain.RunRequestHeaders(!ex->req_has_body));
    return;
  }
  ForwardRequest();
}

// Picks the endpoint, builds the upstream head and connects: after the request filters, if any.
void Session::ForwardRequest() {
  Exchange* ex = ex_;
  const Snapshot& snap = *ex->snap->snap;
  if (ex->match.service < 0) {
    Reply(503, "no Service found with those values", ex->req_has_body);
    return;
  }
  ex->service = &snap.services[ex->match.service];
  if (ex->service->upstream < 0 && ex->service->endpoints.empty()) {
    Reply(503, "name resolution failed", ex->req_has_body);
    return;
  }
  if (!PickTarget(-1)) {
    // Kong's answers: a service host that does not resolve, or no target of an upstream that
    // is healthy, resolved and not behind an open breaker.
    Reply(503,
          ex->service->dns_name ? "name resolution failed"
                                : "failure to get a peer from the ring-balancer",
          ex->req_has_body);
    return;
  }
  if (ex->filters && ex->chain.upstream_path().has_value()) {
    absl::string_view p = *ex->chain.upstream_path();
    ex->up_path.assign(p.data(), p.size());
  } else {
    router::BuildUpstreamPath(ex->service->path, ex->route->strip_path, ex->route->path_handling,
                              ex->norm_path, ex->match.matched_prefix, &ex->up_path);
  }
  absl::string_view path, query;
  bool has_query = false;
  http::SplitTarget(ex->target, &path, &query, &has_query);
  if (ex->filters && ex->chain.upstream_query().has_value()) {
    query = *ex->chain.upstream_query();
    has_query = !query.empty();
  }
  if (has_query) {
    ex->up_path.push_back('?');
    ex->up_path.append(query.data(), query.size());
  }
  BuildUpstreamHead();
  // The head is serialised: its bytes in the read buffer are no longer needed.
  CompactInput();
  ConnectUpstream();
}

bool Session::PickTarget(int avoid) {
  Exchange* ex = ex_;
  const ServiceRoute& svc = *ex->service;
  if (svc.upstream < 0) {
    const Endpoint& e = svc.endpoints.front();
    ex->up_addr = e.address;
    ex->host_header = &e.host_header;
    return true;
  }
  if (ex->picker == nullptr) {
    ex->picker = &ex->snap->pickers->at(static_cast<size_t>(svc.upstream));
    ex->picker->upstream().retry_budget().OnRequest();
  }
  balancer::RequestFacts facts;
  facts.client_ip = absl::string_view(peer_, peer_len_);
  facts.path = ex->norm_path;
  if (ex->filters && ex->chain.consumer() >= 0)
    facts.consumer_id = ex->snap->snap->config.consumers[ex->chain.consumer()].id;
  if (avoid < 0) {
    // The head still lies in the read buffer only before the first attempt; a retry hashes
    // on what outlives it (and moves off the failed target anyway).
    absl::string_view path;
    bool has_query = false;
    http::SplitTarget(ex->target, &path, &facts.query, &has_query);
    facts.headers = &ex->req_headers;
    facts.match = &ex->match;
  }
  const balancer::Upstream& up = ex->picker->upstream();
  ex->sel = ex->picker->Pick(facts, NowMs(), avoid);
  if (!ex->sel)
    return false;
  if (!up.AddressOf(&ex->sel, NowMs(), &ex->up_addr)) {
    EndAttempt(balancer::Result::Kind::kCancelled);
    return false;
  }
  ex->host_header = &svc.target_host_headers[static_cast<size_t>(ex->sel.index)];
  return true;
}

void Session::EndAttempt(balancer::Result::Kind kind, bool connecting) {
  Exchange* ex = ex_;
  if (!ex->sel)
    return;
  balancer::Result r;
  r.kind = kind;
  r.connecting = connecting;
  r.status = ex->up_status;
  r.latency_us = ex->up_latency_us;
  ex->picker->upstream().Report(ex->sel, r, NowMs());
  ex->sel = {};
}

// --- replies and completion ------------------------------------------------------------------

void Session::Reply(int status, absl::string_view message, bool close) {
  if (client_write_pending_) {
    Close();  // an interim "100 Continue" is still queued on the one client write request
    return;
  }
  if (ex_ == nullptr)
    OnMessageBegin(&parser_);
  Exchange* ex = ex_;
  if (ex->filters && !ex->resp_started) {
    ex->close_after = ex->close_after || close;
    ReplyThroughFilters(status, message);
    return;
  }
  if (ex->up != nullptr)
    ReleaseUpstream(false);
  ex->phase = Phase::kReplying;
  ex->status = status;
  ex->close_after = ex->close_after || close || !ex->keep_alive;
  ex->resp_head.clear();
  http::AppendErrorReply(status, message, ex->close_after, ex->wants_plain, &ex->resp_head);
  if (ex->is_head) {
    // A HEAD reply keeps its Content-Length but carries no body.
    ex->resp_head.resize(ex->resp_head.find("\r\n\r\n") + 4);
  }
  ex->resp_started = true;
  ex->resp_complete = true;
  ex->resp_batch.Clear();
  ex->resp_batch.Add(ex->resp_head.data(), ex->resp_head.size());
  StopReading();
  ArmTimer(ctx_->settings.client_send_timeout_ms);
  WriteToClient();
}

bool Session::WriteNow(uv_stream_t* stream, WriteBatch* batch, uv_write_t* req, uv_write_cb cb,
                       int* err) {
  *err = 0;
  // A synchronous completion runs the next step inline; the depth bound keeps a burst of
  // pipelined requests from recursing without limit (past it, libuv's callback takes over).
  if (sync_depth_ < kMaxSyncDepth) {
    int n = uv_try_write(stream, batch->bufs(), batch->count());
    if (n >= 0 && static_cast<size_t>(n) == batch->bytes())
      return true;
    if (n > 0) {
      batch->Consume(static_cast<size_t>(n));
    } else if (n < 0 && n != UV_EAGAIN) {
      *err = n;
      return false;
    }
  }
  *err = uv_write(req, stream, batch->bufs(), batch->count(), cb);
  return false;
}

void Session::WriteToClient() {
  Exchange* ex = ex_;
  ex->bytes_sent += ex->resp_batch.bytes();
  ex->client_wreq.data = this;
  int err;
  if (WriteNow(reinterpret_cast<uv_stream_t*>(&tcp_), &ex->resp_batch, &ex->client_wreq,
               OnClientWrite, &err)) {
    // Written without a queued request: no callback, and libuv need not re-arm the watcher.
    ++sync_depth_;
    ClientWriteDone();
    --sync_depth_;
    return;
  }
  if (err != 0) {
    Close();
    return;
  }
  client_write_pending_ = true;
}

void Session::OnClientWrite(uv_write_t* req, int status) {
  auto* s = static_cast<Session*>(req->data);
  s->client_write_pending_ = false;
  if (s->closing_) {
    s->MaybeDelete();
    return;
  }
  if (status != 0) {
    s->Close();
    return;
  }
  s->ClientWriteDone();
}

void Session::ClientWriteDone() {
  Exchange* ex = ex_;
  ex->resp_batch.Clear();
  if (ex->resp_complete) {
    FinishExchange();
    return;
  }
  if (!ex->resp_started) {
    // That was the interim "100 Continue"; the body may now flow and the response may wait.
    ProcessInput();
    if (!closing_ && ex_ == ex && ex->phase == Phase::kUpstream)
      ParseResponse();
    return;
  }
  // Backpressure: upstream reading was paused while this write was in flight.
  ParseResponse();
}

void Session::FinishExchange() {
  Exchange* ex = ex_;
  EndAttempt(ex->up_status != 0 ? balancer::Result::Kind::kResponse
                                : balancer::Result::Kind::kCancelled);
  if (ex->filters)
    EndFilters();
  uint64_t now = NowMs();
  int cls = ex->status / 100;
  WorkerStats::Bump(ctx_->stats->responses_by_class[cls >= 1 && cls <= 5 ? cls : 0]);
  if (ctx_->access_log != nullptr) {
    AccessRecord r;
    r.client_ip = absl::string_view(peer_, peer_len_);
    r.method = ex->log_method;
    r.target = ex->log_target;
    r.http10 = ex->http10;
    r.status = ex->status;
    r.bytes_sent = ex->bytes_sent;
    r.upstream_ms = ex->upstream_start_ms ? static_cast<int64_t>(now - ex->upstream_start_ms) : -1;
    r.total_ms = now - ex->start_ms;
    if (ex->route != nullptr)
      r.route = ex->route->name.empty() ? ex->route->id : ex->route->name;
    ctx_->access_log->Append(r);
  }
  if (ex->up != nullptr) {
    // Reuse only a connection whose exchange ended cleanly on both sides, with no stray bytes.
    ReleaseUpstream(ex->up_reusable && ex->up_parse_pos == ex->up_end && ex->req_complete &&
                    !ex->up_write_pending);
  }
  if (ex->up_buf != nullptr) {
    ctx_->buffers.Put(ex->up_buf);
    ex->up_buf = nullptr;
  }
  bool keep = ex->keep_alive && !ex->close_after && ex->req_complete && !parse_error_ &&
              !ctx_->draining && !ex->up_write_pending;
  if (ex->snap != nullptr) {
    ctx_->Release(ex->snap);
    ex->snap = nullptr;
  }
  if (!keep) {
    Close();  // the exchange goes with the session: a cancelled write may still point into it
    return;
  }
  if (ctx_->free_exchanges.size() < kMaxFreeExchanges) {
    ctx_->free_exchanges.push_back(ex);
  } else {
    delete ex;  // a past burst should not pin its memory for ever
  }
  ex_ = nullptr;
  ArmTimer(ctx_->settings.keepalive_timeout_ms);
  if (parse_pos_ < in_end_) {
    ArmTimer(ctx_->settings.client_header_timeout_ms);
    CompactInput();  // the next head starts at the front, with the whole buffer to grow into
    ProcessInput();  // a pipelined request is already here
  } else {
    ReleaseReadBuffer();
    StartReading();
  }
}

// --- timers and closing ----------------------------------------------------------------------

void Session::ArmTimer(uint64_t ms) { uv_timer_start(&timer_, OnTimer, ms, 0); }

void Session::OnTimer(uv_timer_t* t) {
  auto* s = static_cast<Session*>(t->data);
  if (s == nullptr || s->closing_)
    return;
  Exchange* ex = s->ex_;
  if (ex == nullptr) {
    s->Close();  // idle keep-alive connection
    return;
  }
  switch (ex->phase) {
    case Phase::kHead:
      s->Reply(408, http::DefaultMessage(408), true);
      return;
    case Phase::kConnecting:
    case Phase::kUpstream:
      if (ex->phase == Phase::kUpstream && !ex->req_complete && !ex->up_write_pending &&
          !ex->resp_started && !s->client_write_pending_) {
        s->Reply(408, http::DefaultMessage(408), true);  // the client stalled mid-body
        return;
      }
      if (s->client_write_pending_ || ex->resp_started) {
        s->Close();  // a slow client or an upstream stalled mid-response
      } else {
        WorkerStats::Bump(s->ctx_->stats->upstream_timeouts);
        // A connect that timed out never reached the application: another target may serve.
        s->UpstreamFailed(504, ex->phase == Phase::kConnecting);
      }
      return;
    case Phase::kReplying:
      s->Close();
      return;
    case Phase::kFilters:
      log::Warn("a filter held a request for %d ms without resuming it",
                static_cast<int>(s->ctx_->settings.filter_pause_timeout_ms));
      s->Reply(500, http::DefaultMessage(500), true);
      return;
    case Phase::kFilterBody:
      s->Reply(408, http::DefaultMessage(408), true);
      return;
  }
}

void Session::Close() {
  if (closing_)
    return;
  closing_ = true;
  if (ex_ != nullptr) {
    EndAttempt(ex_->up_status != 0 ? balancer::Result::Kind::kResponse
                                   : balancer::Result::Kind::kCancelled);
    if (ex_->filters)
      EndFilters();  // the client went away: filters still log and free their state
    if (ex_->up != nullptr)
      ReleaseUpstream(false);
    if (ex_->up_buf != nullptr) {
      ctx_->buffers.Put(ex_->up_buf);
      ex_->up_buf = nullptr;
    }
    if (ex_->snap != nullptr)
      ctx_->Release(ex_->snap);
    ex_->snap = nullptr;
    // A write may still reference the exchange's buffers: it is freed with the session.
  }
  auto on_close = [](uv_handle_t* h) {
    auto* s = static_cast<Session*>(h->data);
    --s->open_handles_;
    s->MaybeDelete();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

}  // namespace sluice::proxy

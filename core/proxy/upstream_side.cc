// SPDX-License-Identifier: Apache-2.0
// The upstream side of a session: connecting (pooled), sending the rewritten request head and
// streaming the body, parsing the response (llhttp) and streaming it to the client with
// backpressure both ways: neither side is read while a write to the other is in flight.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "core/http/known_headers.h"
#include "core/http/reply.h"
#include "core/proxy/session.h"

namespace sluice::proxy {
namespace {

Session* From(llhttp_t* p) { return static_cast<Session*>(p->data); }

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

const llhttp_settings_t Session::kResponseSettings = [] {
  llhttp_settings_t s;
  llhttp_settings_init(&s);
  s.on_status = OnRespStatus;
  s.on_header_field = OnRespHeaderField;
  s.on_header_value = OnRespHeaderValue;
  s.on_header_value_complete = OnRespHeaderValueComplete;
  s.on_headers_complete = OnRespHeadersComplete;
  s.on_body = OnRespBody;
  s.on_chunk_header = OnRespChunkHeader;
  s.on_message_complete = OnRespMessageComplete;
  return s;
}();

// --- request head ------------------------------------------------------------------------------

void Session::BuildUpstreamHead() {
  Exchange* ex = ex_;
  std::string& out = ex->out;
  out.clear();
  absl::string_view method = ex->log_method;
  if (ex->filters && ex->chain.upstream_method().has_value())
    method = *ex->chain.upstream_method();
  absl::StrAppend(&out, method, " ", ex->up_path, " HTTP/1.1\r\n");

  absl::string_view client_host;
  absl::string_view prior_xff;
  bool multiple_xff = false;
  absl::string_view prior_via;
  size_t xff_first = 0;
  // First pass: the few fields the rewrite depends on.
  for (size_t i = 0; i < ex->req_headers.size(); ++i) {
    const http::HeaderField& f = ex->req_headers[i];
    switch (http::ClassifyHeader(f.name)) {
      case http::HeaderId::kHost:
        client_host = f.value;
        break;
      case http::HeaderId::kXForwardedFor:
        if (prior_xff.data() == nullptr) {
          prior_xff = f.value;
          xff_first = i;
        } else {
          multiple_xff = true;
        }
        break;
      case http::HeaderId::kVia:
        prior_via = f.value;
        break;
      case http::HeaderId::kExpect:
        if (IEquals(f.value, "100-continue") && ex->req_has_body && !ex->http10 &&
            !ex->buffer_req_body) {
          ex->expect_continue = true;
        }
        break;
      default:
        break;
    }
  }

  if (ex->route->preserve_host && client_host.data() != nullptr) {
    AppendHeaderLine(&out, "Host", client_host);
  } else {
    AppendHeaderLine(&out, "Host", *ex->host_header);
  }
  for (const http::HeaderField& f : ex->req_headers) {
    http::HeaderId id = http::ClassifyHeader(f.name);
    switch (id) {
      case http::HeaderId::kHost:
      case http::HeaderId::kContentLength:  // re-added from the parsed framing below
      case http::HeaderId::kXForwardedFor:
      case http::HeaderId::kXForwardedProto:
      case http::HeaderId::kXForwardedHost:
      case http::HeaderId::kXForwardedPort:
      case http::HeaderId::kXForwardedPath:
      case http::HeaderId::kXForwardedPrefix:
      case http::HeaderId::kXRealIp:
      case http::HeaderId::kVia:
        continue;
      case http::HeaderId::kExpect:
        if (ex->expect_continue || ex->buffer_req_body)
          continue;
        break;
      default:
        if (http::IsHopByHop(id))
          continue;
        break;
    }
    if (!ex->connection_tokens.empty() && http::NamedInConnection(f.name, ex->connection_tokens))
      continue;
    AppendHeaderLine(&out, f.name, f.value);
  }

  absl::string_view ip(peer_, peer_len_);
  out.append("X-Forwarded-For: ");
  if (prior_xff.data() != nullptr) {
    out.append(prior_xff.data(), prior_xff.size());
    if (multiple_xff) {
      for (size_t i = xff_first + 1; i < ex->req_headers.size(); ++i) {
        const http::HeaderField& f = ex->req_headers[i];
        if (http::ClassifyHeader(f.name) == http::HeaderId::kXForwardedFor) {
          absl::StrAppend(&out, ", ", f.value);
        }
      }
    }
    out.append(", ");
  }
  absl::StrAppend(&out, ip, "\r\nX-Forwarded-Proto: http\r\n");
  absl::string_view host_only = client_host;
  if (size_t colon = host_only.rfind(':');
      colon != absl::string_view::npos && host_only.find(']', colon) == absl::string_view::npos) {
    host_only = host_only.substr(0, colon);
  }
  absl::string_view raw_path = ex->target.substr(0, ex->target.find('?'));
  absl::StrAppend(&out, "X-Forwarded-Host: ", host_only, "\r\nX-Forwarded-Port: ", listen_port_,
                  "\r\nX-Forwarded-Path: ", raw_path, "\r\n");
  absl::string_view prefix = ex->match.matched_prefix;
  if (ex->route->strip_path && !prefix.empty() && prefix != "/") {
    absl::StrAppend(&out, "X-Forwarded-Prefix: ", prefix, "\r\n");
  }
  absl::StrAppend(&out, "X-Real-IP: ", ip, "\r\n");
  if (prior_via.data() != nullptr) {
    absl::StrAppend(&out, "Via: ", prior_via, ", 1.1 sluice\r\n");
  } else {
    out.append("Via: 1.1 sluice\r\n");
  }
  if (ex->buffer_req_body) {
    absl::StrAppend(&out, "Content-Length: ", ex->req_body_out.size(), "\r\n");
  } else if (ex->req_chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  } else if (parser_.flags & F_CONTENT_LENGTH) {
    absl::StrAppend(&out, "Content-Length: ", ex->req_has_body ? parser_.content_length : 0,
                    "\r\n");
  }
  out.append("\r\n");
}

// --- connecting --------------------------------------------------------------------------------

void Session::ConnectUpstream() {
  Exchange* ex = ex_;
  ex->phase = Phase::kConnecting;
  ++ex->attempts;
  if (ex->upstream_start_ms == 0)
    ex->upstream_start_ms = NowMs();
  ex->attempt_start_ns = uv_hrtime();
  ex->up_status = 0;
  if (upstream::Connection* c = ctx_->pool.AcquireIdle(ex->up_addr)) {
    ex->up = c;
    StartUpstreamIO();
    return;
  }
  int err = 0;
  ex->up = ctx_->pool.Connect(ex->up_addr, OnUpstreamConnect, this, &err);
  if (ex->up == nullptr) {
    WorkerStats::Bump(ctx_->stats->upstream_connect_failures);
    UpstreamFailed(502, true);
    return;
  }
  WorkerStats::Bump(ctx_->stats->upstream_connections_opened);
  ArmTimer(ex->service->connect_timeout_ms);
}

void Session::OnUpstreamConnect(void* owner, int status) {
  auto* s = static_cast<Session*>(owner);
  if (s->closing_)
    return;
  if (status != 0) {
    WorkerStats::Bump(s->ctx_->stats->upstream_connect_failures);
    s->UpstreamFailed(502, true);
    return;
  }
  s->StartUpstreamIO();
}

void Session::StartUpstreamIO() {
  Exchange* ex = ex_;
  ex->phase = Phase::kUpstream;
  ex->up->tcp.data = this;
  ex->up->owner = this;
  llhttp_init(&ex->rparser, HTTP_RESPONSE, &kResponseSettings);
  ex->rparser.data = this;
  ex->up_end = ex->up_parse_pos = 0;
  ex->resp_headers.Clear();
  ex->resp_field = ex->resp_value = ex->resp_reason = absl::string_view();
  ReadUpstream();
  ex->req_batch.Clear();
  ex->req_batch.Add(ex->out.data(), ex->out.size());
  if (ex->buffer_req_body)
    ex->req_batch.Add(ex->req_body_out.data(), ex->req_body_out.size());
  if (ex->expect_continue && !client_write_pending_) {
    // The client waits for this before sending its body; the response head comes later.
    ex->expect_continue = false;
    client_write_pending_ = true;
    ex->client_wreq.data = this;
    uv_buf_t b = uv_buf_init(const_cast<char*>(kContinue), sizeof kContinue - 1);
    if (uv_write(&ex->client_wreq, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1, OnClientWrite) !=
        0) {
      client_write_pending_ = false;
      Close();
      return;
    }
  }
  // Body bytes already read are batched behind the head, so a small request is one write.
  ProcessInput();
}

// --- sending -----------------------------------------------------------------------------------

void Session::SendToUpstream() {
  Exchange* ex = ex_;
  ex->up_wreq.data = this;
  int err;
  if (WriteNow(reinterpret_cast<uv_stream_t*>(&ex->up->tcp), &ex->req_batch, &ex->up_wreq,
               OnUpstreamWrite, &err)) {
    ++sync_depth_;
    UpstreamWriteDone();
    --sync_depth_;
    return;
  }
  if (err != 0) {
    UpstreamFailed(502, Replayable());
    return;
  }
  ex->up_write_pending = true;
  if (!ex->req_complete)
    StopReading();  // body backpressure; a finished request keeps reading
  ArmUpstreamTimer();
}

void Session::OnUpstreamWrite(uv_write_t* req, int status) {
  auto* s = static_cast<Session*>(req->data);
  Exchange* ex = s->ex_;
  ex->up_write_pending = false;
  if (s->closing_) {
    s->MaybeDelete();
    return;
  }
  if (status == UV_ECANCELED || ex->up == nullptr)
    return;  // we closed that connection
  if (status != 0) {
    if (!ex->resp_started) {
      s->UpstreamFailed(502, s->Replayable() && ex->status == 0);
    } else {
      s->Close();
    }
    return;
  }
  s->UpstreamWriteDone();
}

void Session::UpstreamWriteDone() {
  Exchange* ex = ex_;
  ex->req_batch.Clear();
  ArmUpstreamTimer();
  if (!ex->req_complete)
    ProcessInput();  // more body to read from the client
}

// --- receiving ---------------------------------------------------------------------------------

void Session::ReadUpstream() {
  Exchange* ex = ex_;
  if (ex->up != nullptr)
    upstream::ReadWith(ex->up, OnUpstreamAlloc, OnUpstreamRead);
}

void Session::OnUpstreamAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* s = static_cast<Session*>(h->data);
  Exchange* ex = s->ex_;
  if (ex->up_buf == nullptr) {
    ex->up_buf = s->ctx_->buffers.Get();
    ex->up_end = ex->up_parse_pos = 0;
  }
  *buf = uv_buf_init(ex->up_buf + ex->up_end, BufferPool::kBufferSize - ex->up_end);
}

void Session::OnUpstreamRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* s = static_cast<Session*>(stream->data);
  if (nread == 0 || s->closing_)
    return;
  Exchange* ex = s->ex_;
  if (nread > 0) {
    ex->up_end += static_cast<uint32_t>(nread);
    s->ParseResponse();
    return;
  }
  if (nread == UV_EOF && ex->resp_started && llhttp_message_needs_eof(&ex->rparser)) {
    // A close-delimited body ends here.
    ex->up_reusable = false;
    upstream::StopReads(ex->up);
    if (llhttp_finish(&ex->rparser) == HPE_OK || ex->resp_complete) {
      s->ParseResponse();
    } else {
      s->Close();
    }
    return;
  }
  if (ex->resp_started) {
    s->Close();  // truncated response: the client must see the connection end
    return;
  }
  bool nothing_received = ex->up_end == 0 && ex->status == 0;
  // A reset before any response byte: an idempotent request may go to another target.
  s->UpstreamFailed(502, nothing_received && s->Replayable() && !ex->up_write_pending);
}

void Session::ParseResponse() {
  Exchange* ex = ex_;
  if (client_write_pending_ || ex->up == nullptr) {
    // Backpressure: the upstream waits while the client drains. A complete response keeps its
    // read armed, so a pooled connection costs no epoll_ctl per request.
    if (ex->up != nullptr && !ex->resp_complete)
      upstream::StopReads(ex->up);
    return;
  }
  if (ex->filter_wait != FilterWait::kNone)
    return;  // a response filter holds the head
  if (ex->up_parse_pos < ex->up_end && !ex->resp_complete) {
    if (ex->resp_body_filters)
      ex->resp_out.clear();  // the last batch that pointed into it was written
    llhttp_errno_t err =
        llhttp_execute(&ex->rparser, ex->up_buf + ex->up_parse_pos, ex->up_end - ex->up_parse_pos);
    if (err == HPE_OK) {
      ex->up_parse_pos = ex->up_end;
    } else if (err == HPE_PAUSED) {
      ex->up_parse_pos = static_cast<uint32_t>(llhttp_get_error_pos(&ex->rparser) - ex->up_buf);
      llhttp_resume(&ex->rparser);
    } else {
      if (ex->resp_started) {
        Close();
      } else {
        UpstreamFailed(502, false);
      }
      return;
    }
  }
  if (ex->filter_wait == FilterWait::kResponseHeaders) {
    upstream::StopReads(ex->up);
    return;
  }
  if (ex->filter_wait == FilterWait::kResponseReply) {
    ex->filter_wait = FilterWait::kNone;
    ReleaseUpstream(false);
    FilterReply();
    return;
  }
  if (ex->resp_body_filters) {
    // What the body filters let through this time, framed like any body.
    if (!ex->resp_out.empty()) {
      if (ex->chunked_out) {
        ex->resp_batch.AddChunk(ex->resp_out.data(), ex->resp_out.size());
      } else {
        ex->resp_batch.Add(ex->resp_out.data(), ex->resp_out.size());
      }
    }
    if (ex->resp_complete && ex->chunked_out)
      ex->resp_batch.AddLastChunk();
  }
  if (!ex->resp_batch.empty()) {
    if (!ex->resp_complete)
      upstream::StopReads(ex->up);
    ArmTimer(ctx_->settings.client_send_timeout_ms);
    WriteToClient();
    return;
  }
  if (ex->resp_complete) {
    FinishExchange();
    return;
  }
  // Everything parsed was written: the buffer can be reused from its start, unless it still
  // holds a partial response head that the header views point into.
  if (ex->resp_started && ex->up_parse_pos == ex->up_end)
    ex->up_end = ex->up_parse_pos = 0;
  if (ex->up_parse_pos < ex->up_end && ex->up_end == BufferPool::kBufferSize) {
    UpstreamFailed(502, false);  // a response head larger than the buffer
    return;
  }
  ReadUpstream();
  ArmUpstreamTimer();
}

// --- llhttp response callbacks -----------------------------------------------------------------

int Session::OnRespStatus(llhttp_t* p, const char* at, size_t len) {
  ExtendView(&From(p)->ex_->resp_reason, at, len);
  return 0;
}

// Trailers arrive through the same callbacks after the body; they are not relayed, and their
// bytes are no longer where the head was, so they are ignored.
int Session::OnRespHeaderField(llhttp_t* p, const char* at, size_t len) {
  Exchange* ex = From(p)->ex_;
  if (!ex->resp_started)
    ExtendView(&ex->resp_field, at, len);
  return 0;
}

int Session::OnRespHeaderValue(llhttp_t* p, const char* at, size_t len) {
  Exchange* ex = From(p)->ex_;
  if (!ex->resp_started)
    ExtendView(&ex->resp_value, at, len);
  return 0;
}

int Session::OnRespHeaderValueComplete(llhttp_t* p) {
  Exchange* ex = From(p)->ex_;
  if (ex->resp_started)
    return 0;
  if (ex->resp_headers.size() >= 200)
    return -1;
  ex->resp_headers.Add(ex->resp_field, TrimOws(ex->resp_value));
  ex->resp_field = ex->resp_value = absl::string_view();
  return 0;
}

int Session::OnRespHeadersComplete(llhttp_t* p) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  ex->status = llhttp_get_status_code(p);
  if (ex->status < 200) {
    if (ex->status == 101)
      return -1;  // we never asked for an upgrade
    // Interim responses (100, 103) are not relayed; the final one follows.
    ex->skipping_informational = true;
    return 0;
  }
  ex->upstream_headers_ms = s->NowMs();
  ex->up_status = ex->status;
  ex->up_latency_us = (uv_hrtime() - ex->attempt_start_ns) / 1000;
  if (ex->filters) {
    bool no_body = ex->is_head || ex->status == 204 || ex->status == 304 ||
                   ((p->flags & F_CONTENT_LENGTH) && p->content_length == 0);
    ex->fview.response_headers = &ex->resp_headers;
    ex->fview.response_status = ex->status;
    filter_host::Flow flow = ex->chain.RunResponseHeaders(no_body);
    if (flow != filter_host::Flow::kContinue) {
      // Held or replaced: ParseResponse acts on it once llhttp has returned.
      ex->filter_wait = flow == filter_host::Flow::kPause ? FilterWait::kResponseHeaders
                                                          : FilterWait::kResponseReply;
      return ex->is_head ? 1 : HPE_PAUSED;
    }
    ex->resp_body_filters = ex->chain.has_response_body_filters() && !no_body;
  }
  s->BuildResponseHead();
  ex->resp_batch.Add(ex->resp_head.data(), ex->resp_head.size());
  ex->resp_started = true;
  return ex->is_head ? 1 : 0;
}

int Session::OnRespBody(llhttp_t* p, const char* at, size_t len) {
  Exchange* ex = From(p)->ex_;
  if (ex->resp_body_filters) {
    if (ex->chain.RunResponseBody({at, len}, false) == filter_host::Flow::kReset)
      return -1;
    absl::string_view out = ex->chain.body_output();
    ex->resp_out.append(out.data(), out.size());
    return 0;
  }
  if (ex->chunked_out) {
    ex->resp_batch.AddChunk(at, len);
  } else {
    ex->resp_batch.Add(at, len);
  }
  return 0;
}

int Session::OnRespChunkHeader(llhttp_t* p) {
  return From(p)->ex_->resp_batch.HasRoomForChunk() ? 0 : HPE_PAUSED;
}

int Session::OnRespMessageComplete(llhttp_t* p) {
  Session* s = From(p);
  Exchange* ex = s->ex_;
  if (ex->skipping_informational) {
    ex->skipping_informational = false;
    ex->resp_headers.Clear();
    ex->resp_reason = absl::string_view();
    return 0;
  }
  if (ex->resp_body_filters) {
    if (ex->chain.RunResponseBody({}, true) == filter_host::Flow::kReset)
      return -1;
    absl::string_view out = ex->chain.body_output();
    ex->resp_out.append(out.data(), out.size());
  } else if (ex->chunked_out) {
    ex->resp_batch.AddLastChunk();
  }
  ex->resp_complete = true;
  ex->up_reusable = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;
}

// --- response head -----------------------------------------------------------------------------

void Session::BuildResponseHead() {
  Exchange* ex = ex_;
  std::string& out = ex->resp_head;
  out.clear();
  absl::StrAppend(&out, "HTTP/1.1 ", ex->status, " ",
                  ex->resp_reason.empty() ? http::ReasonPhrase(ex->status) : ex->resp_reason,
                  "\r\n");
  http::ConnectionTokens named;
  absl::string_view prior_via;
  for (const http::HeaderField& f : ex->resp_headers) {
    if (http::ClassifyHeader(f.name) == http::HeaderId::kConnection) {
      http::AddConnectionTokens(f.value, &named);
    }
  }
  for (const http::HeaderField& f : ex->resp_headers) {
    http::HeaderId id = http::ClassifyHeader(f.name);
    if (http::IsHopByHop(id))
      continue;
    if (id == http::HeaderId::kVia) {
      prior_via = f.value;
      continue;
    }
    if (!named.empty() && http::NamedInConnection(f.name, named))
      continue;
    AppendHeaderLine(&out, f.name, f.value);
  }
  if (ex->filters)
    PinResponseHead();
  const llhttp_t& rp = ex->rparser;
  bool no_body = ex->is_head || ex->status == 204 || ex->status == 304;
  // Body filters may change the length; they drop Content-Length when they do (filter.h).
  bool has_length = ex->resp_body_filters ? ex->resp_headers.Find("content-length") != nullptr
                                          : (rp.flags & F_CONTENT_LENGTH) != 0;
  if (!no_body && !has_length) {
    // Chunked or close-delimited upstream body: re-chunk for HTTP/1.1 clients so the
    // connection survives; an HTTP/1.0 client reads until we close.
    if (ex->http10) {
      ex->close_after = true;
    } else {
      ex->chunked_out = true;
      out.append("Transfer-Encoding: chunked\r\n");
    }
  }
  if (prior_via.data() != nullptr) {
    absl::StrAppend(&out, "Via: ", prior_via, ", 1.1 sluice\r\n");
  } else {
    out.append("Via: 1.1 sluice\r\n");
  }
  if (ctx_->settings.latency_headers) {
    absl::StrAppend(&out,
                    "X-Sluice-Upstream-Latency: ", ex->upstream_headers_ms - ex->upstream_start_ms,
                    "\r\nX-Sluice-Proxy-Latency: ", ex->upstream_start_ms - ex->start_ms, "\r\n");
  }
  // Draining, or an early answer while the body is still coming: this connection ends here.
  if (ctx_->draining || !ex->req_complete)
    ex->close_after = true;
  if (ex->close_after || !ex->keep_alive) {
    out.append("Connection: close\r\n");
  } else if (ex->http10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

// --- failures and release ----------------------------------------------------------------------

void Session::UpstreamFailed(int status, bool may_retry) {
  Exchange* ex = ex_;
  const bool connecting = ex->phase == Phase::kConnecting;
  if (ex->up != nullptr)
    ReleaseUpstream(false);
  int failed = ex->sel.index;
  EndAttempt(
      status == 504 ? balancer::Result::Kind::kTimeout : balancer::Result::Kind::kConnectFailure,
      connecting);
  // A retry goes to another target when there is one; the retry budget keeps a failing
  // upstream from receiving (retries + 1) times its traffic.
  if (may_retry && ex->attempts <= ex->service->retries && !ex->resp_started &&
      !ex->up_write_pending &&
      (ex->picker == nullptr || ex->picker->upstream().retry_budget().TryRetry()) &&
      PickTarget(failed)) {
    ex->status = 0;
    ConnectUpstream();
    return;
  }
  Reply(status, http::DefaultMessage(status), !ex->req_complete);
}

void Session::ReleaseUpstream(bool reusable) {
  Exchange* ex = ex_;
  upstream::Connection* c = ex->up;
  ex->up = nullptr;
  if (reusable) {
    c->pool->Release(c);
  } else {
    c->pool->Close(c);
  }
  if (ex->up_buf != nullptr && !client_write_pending_) {
    ctx_->buffers.Put(ex->up_buf);
    ex->up_buf = nullptr;
    ex->up_end = ex->up_parse_pos = 0;
  }
}

void Session::ArmUpstreamTimer() {
  Exchange* ex = ex_;
  ArmTimer(ex->up_write_pending ? ex->service->write_timeout_ms : ex->service->read_timeout_ms);
}

}  // namespace sluice::proxy

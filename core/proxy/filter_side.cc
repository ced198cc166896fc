// SPDX-License-Identifier: Apache-2.0
// The filter side of a session: runs a request's filter chain at the points the contract in
// core/filter_host/chain.h names (request head, whole request body, response head, response
// body, local replies, log) and parks the exchange while a filter has paused it. Routes whose
// chain is empty never get here: they keep the plain proxy path.
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "core/common/log.h"
#include "core/http/known_headers.h"
#include "core/http/reply.h"
#include "core/proxy/session.h"

namespace sluice::proxy {

using filter_host::Flow;

namespace {

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

// The host part of a Host header value, without the port.
absl::string_view HostOnly(absl::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t end = host.find(']');
    return end == absl::string_view::npos ? host : host.substr(0, end + 1);
  }
  size_t colon = host.find(':');
  return colon == absl::string_view::npos ? host : host.substr(0, colon);
}

}  // namespace

bool Session::BeginFilters(int route, absl::string_view host) {
  Exchange* ex = ex_;
  filter_host::WorkerFilters* wf = ex->snap->filters.get();
  if (wf == nullptr || wf->chains().ForRoute(route).filters.empty())
    return false;
  ex->filters = true;
  absl::string_view bare = HostOnly(host);
  ex->host_lc.assign(bare.data(), bare.size());
  absl::AsciiStrToLower(&ex->host_lc);
  uint64_t head = ex->log_method.size() + ex->log_target.size() + 12;
  for (const http::HeaderField& f : ex->req_headers)
    head += f.name.size() + f.value.size() + 4;
  ex->head_bytes = head + 2;

  filter_host::RequestView& v = ex->fview;
  v = filter_host::RequestView();
  v.request_headers = &ex->req_headers;
  v.method = ex->log_method;
  v.path = ex->norm_path;
  absl::string_view target = ex->log_target;
  if (size_t q = target.find('?'); q != absl::string_view::npos)
    v.query = target.substr(q + 1);
  v.host = ex->host_lc;
  v.scheme = "http";
  v.client_address = absl::string_view(peer_, peer_len_);
  v.client_port = peer_port_;
  v.target = target;
  v.start_time_ms = absl::ToUnixMillis(absl::Now());
  if (route >= 0) {
    const config::Config& config = ex->snap->snap->config;
    v.route = &config.routes[route];
    if (ex->match.service >= 0)
      v.service = &config.services[ex->match.service];
    v.match = &ex->match;
  }
  ex->chain.Begin(*wf, route, &ex->fview, &Session::OnFilterResume, this);
  return true;
}

void Session::OnFilterResume(void* owner, Flow flow) {
  auto* s = static_cast<Session*>(owner);
  if (s->closing_ || s->ex_ == nullptr)
    return;
  FilterWait wait = s->ex_->filter_wait;
  s->ex_->filter_wait = FilterWait::kNone;
  switch (wait) {
    case FilterWait::kRequestHeaders:
      s->AfterRequestHeaders(flow);
      return;
    case FilterWait::kRequestBody:
      s->AfterRequestBody(flow);
      return;
    case FilterWait::kResponseHeaders:
      s->AfterResponseHeaders(flow);
      return;
    case FilterWait::kReplyHeaders:
      s->SendFilterReply();
      return;
    case FilterWait::kNone:
    case FilterWait::kResponseReply:
      return;  // a reply overtook the pause
  }
}

void Session::WaitForFilter(FilterWait wait) {
  ex_->filter_wait = wait;
  if (wait == FilterWait::kRequestHeaders || wait == FilterWait::kRequestBody)
    ex_->phase = Phase::kFilters;
  ArmTimer(ctx_->settings.filter_pause_timeout_ms);
}

void Session::AfterRequestHeaders(Flow flow) {
  Exchange* ex = ex_;
  switch (flow) {
    case Flow::kContinue:
      PinRequestHead();
      if (ex->req_has_body && ex->chain.has_request_body_filters()) {
        StartBodyBuffering();
      } else {
        ForwardRequest();
      }
      return;
    case Flow::kPause:
      WaitForFilter(FilterWait::kRequestHeaders);
      return;
    default:
      FilterReply();
      return;
  }
}

// The request head's views point into the read buffer, which moves on once the body is read;
// filters may read the request headers until the log phase, so the fields still there are
// copied into the chain's arena (once per request, and only for requests with filters).
void Session::PinRequestHead() {
  Exchange* ex = ex_;
  const char* lo = in_;
  const char* hi = in_ + BufferPool::kBufferSize;
  auto in_buffer = [&](absl::string_view s) {
    return in_ != nullptr && s.data() >= lo && s.data() < hi;
  };
  filter_host::Arena& arena = ex->chain.arena();
  ex->connection_tokens.clear();
  for (size_t i = 0; i < ex->req_headers.size(); ++i) {
    http::HeaderField& f = ex->req_headers[i];
    if (in_buffer(f.name))
      f.name = arena.Copy(f.name);
    if (in_buffer(f.value))
      f.value = arena.Copy(f.value);
    if (http::ClassifyHeader(f.name) == http::HeaderId::kConnection)
      http::AddConnectionTokens(f.value, &ex->connection_tokens);
  }
  ex->target = ex->log_target;
}

// Response header views point into the upstream read buffer, which body bytes overwrite; the
// log hooks may still read them.
void Session::PinResponseHead() {
  Exchange* ex = ex_;
  if (ex->up_buf == nullptr)
    return;
  const char* lo = ex->up_buf;
  const char* hi = ex->up_buf + BufferPool::kBufferSize;
  filter_host::Arena& arena = ex->chain.arena();
  for (size_t i = 0; i < ex->resp_headers.size(); ++i) {
    http::HeaderField& f = ex->resp_headers[i];
    if (f.name.data() >= lo && f.name.data() < hi)
      f.name = arena.Copy(f.name);
    if (f.value.data() >= lo && f.value.data() < hi)
      f.value = arena.Copy(f.value);
  }
}

void Session::StartBodyBuffering() {
  Exchange* ex = ex_;
  ex->buffer_req_body = true;
  ex->phase = Phase::kFilterBody;
  const http::HeaderField* expect = ex->req_headers.Find("expect");
  if (expect != nullptr && IEquals(expect->value, "100-continue") && !ex->http10 &&
      !client_write_pending_) {
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
  ArmTimer(ctx_->settings.client_header_timeout_ms);
  ProcessInput();
}

void Session::AfterRequestBody(Flow flow) {
  Exchange* ex = ex_;
  switch (flow) {
    case Flow::kContinue:
      ex->req_body_out = ex->chain.body_output();
      ForwardRequest();
      return;
    case Flow::kPause:
      WaitForFilter(FilterWait::kRequestBody);
      return;
    default:
      FilterReply();
      return;
  }
}

void Session::AfterResponseHeaders(Flow flow) {
  Exchange* ex = ex_;
  if (flow != Flow::kContinue) {
    if (ex->up != nullptr)
      ReleaseUpstream(false);
    FilterReply();
    return;
  }
  bool no_body = ex->is_head || ex->status == 204 || ex->status == 304;
  ex->resp_body_filters = ex->chain.has_response_body_filters() && !no_body;
  BuildResponseHead();
  ex->resp_batch.Add(ex->resp_head.data(), ex->resp_head.size());
  ex->resp_started = true;
  ArmUpstreamTimer();
  ParseResponse();
}

void Session::ReplyThroughFilters(int status, absl::string_view message) {
  Exchange* ex = ex_;
  std::string body;
  absl::string_view type;
  if (ex->wants_plain) {
    body = absl::StrCat(message, "\n");
    type = "text/plain; charset=utf-8";
  } else {
    body = absl::StrCat("{\"message\":\"", message, "\"}");
    type = "application/json; charset=utf-8";
  }
  ex->filter_wait = FilterWait::kNone;
  ex->chain.HostReply(status, type, body);
  FilterReply();
}

// Step 9 of the contract: a local reply (a filter's or the gateway's) goes through every
// filter's response hooks before it is written.
void Session::FilterReply() {
  Exchange* ex = ex_;
  if (ex->up != nullptr)
    ReleaseUpstream(false);
  ex->phase = Phase::kReplying;
  ex->resp_body_filters = false;
  StopReading();
  ex->resp_headers.Clear();
  ex->fview.response_headers = &ex->resp_headers;
  ex->fview.response_status = ex->chain.local_reply_status();
  ex->chain.LoadLocalReply(&ex->resp_headers);
  if (ex->chain.RunResponseHeaders(true) == Flow::kPause) {
    WaitForFilter(FilterWait::kReplyHeaders);
    return;
  }
  SendFilterReply();
}

void Session::SendFilterReply() {
  Exchange* ex = ex_;
  int status = ex->chain.local_reply_status();
  absl::string_view body = ex->chain.local_reply_body();
  if (ex->chain.has_response_body_filters()) {
    if (ex->chain.RunResponseBody(body, true) == Flow::kReset) {
      Close();
      return;
    }
    body = ex->chain.body_output();
  }
  ex->status = status;
  // An unread request body cannot be skipped safely: the connection ends with this reply.
  ex->close_after = ex->close_after || !ex->keep_alive || !ex->req_complete || ctx_->draining;
  std::string& out = ex->resp_head;
  out.clear();
  absl::StrAppend(&out, "HTTP/1.1 ", status, " ", http::ReasonPhrase(status), "\r\n");
  bool has_server = false;
  for (const http::HeaderField& f : ex->resp_headers) {
    http::HeaderId id = http::ClassifyHeader(f.name);
    if (http::IsHopByHop(id) || id == http::HeaderId::kContentLength)
      continue;
    has_server = has_server || id == http::HeaderId::kServer;
    AppendHeaderLine(&out, f.name, f.value);
  }
  if (!has_server)
    out.append("Server: sluice/" SLUICE_VERSION "\r\n");
  absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n");
  if (ex->close_after)
    out.append("Connection: close\r\n");
  out.append("\r\n");
  if (!ex->is_head)
    out.append(body.data(), body.size());
  ex->resp_started = true;
  ex->resp_complete = true;
  ex->resp_batch.Clear();
  ex->resp_batch.Add(out.data(), out.size());
  ArmTimer(ctx_->settings.client_send_timeout_ms);
  if (client_write_pending_) {
    Close();  // an interim "100 Continue" still holds the one client write request
    return;
  }
  WriteToClient();
}

// Step 10: the log hooks see the final numbers, then every filter's request state goes.
void Session::EndFilters() {
  Exchange* ex = ex_;
  uint64_t now = NowMs();
  filter_host::RequestView& v = ex->fview;
  v.request_bytes = static_cast<int64_t>(ex->head_bytes + ex->req_body_bytes);
  v.response_bytes = static_cast<int64_t>(ex->bytes_sent);
  v.response_status = ex->status;
  v.upstream_latency_ms =
      ex->upstream_headers_ms != 0
          ? static_cast<int64_t>(ex->upstream_headers_ms - ex->upstream_start_ms)
          : -1;
  v.proxy_latency_ms = static_cast<int64_t>(
      (ex->upstream_start_ms != 0 ? ex->upstream_start_ms : now) - ex->start_ms);
  v.request_latency_ms = static_cast<int64_t>(now - ex->start_ms);
  ex->chain.RunLog();
  ex->chain.End();
  ex->filters = false;
}

}  // namespace sluice::proxy

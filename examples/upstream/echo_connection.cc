// SPDX-License-Identifier: Apache-2.0
// The sluice-echo connection: llhttp request parsing, in-order answers, streamed bodies.
#include "examples/upstream/echo_connection.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace sluice::echo {
namespace {

constexpr size_t kSlowReadChunk = 16 * 1024;
constexpr uint64_t kSlowReadPauseMs = 200;
constexpr uint64_t kResetDelayMs = 50;  // lets the sent bytes reach the peer before the RST
constexpr uint64_t kLingerMs = 5000;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";
constexpr const char* kJson = "application/json";

uv_buf_t Buf(const char* data, size_t len) {
  // libuv only reads from write buffers; the cast is for its C signature.
  return uv_buf_init(const_cast<char*>(data), static_cast<unsigned int>(len));
}

uv_buf_t Buf(std::string_view s) { return Buf(s.data(), s.size()); }

}  // namespace

Connection::Connection(Server& server) : server_(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &Settings());
  parser_.data = this;
  write_req_.data = this;
  side_req_.data = this;
  shutdown_req_.data = this;
}

void Connection::Accept(Server& server, uv_stream_t* listener) {
  auto* c = new Connection(server);
  if (uv_tcp_init(server.loop, &c->tcp_) != 0) {
    delete c;
    return;
  }
  uv_timer_init(server.loop, &c->timer_);  // cannot fail
  c->tcp_.data = c;
  c->timer_.data = c;
  c->open_handles_ = 2;
  c->next_ = server.live;
  if (server.live != nullptr) {
    server.live->prev_ = c;
  }
  server.live = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp_)) != 0) {
    c->Close();
    return;
  }
  ++server.connections;
  uv_tcp_nodelay(&c->tcp_, 1);
  c->StartReading();
}

void Connection::CloseAll(Server& server) {
  while (server.live != nullptr) {
    server.live->Close();  // unlinks itself
  }
}

const llhttp_settings_t& Connection::Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = OnMessageBegin;
    s.on_url = OnUrl;
    s.on_header_field = OnHeaderField;
    s.on_header_field_complete = OnHeaderFieldComplete;
    s.on_header_value = OnHeaderValue;
    s.on_headers_complete = OnHeadersComplete;
    s.on_body = OnBody;
    s.on_message_complete = OnMessageComplete;
    return s;
  }();
  return settings;
}

void Connection::OnAlloc(uv_handle_t* handle, size_t /*suggested*/, uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(handle->data);
  const size_t size = c->slow_read_ ? kSlowReadChunk : sizeof(c->read_buf_);
  *buf = uv_buf_init(c->read_buf_, static_cast<unsigned int>(size));
}

void Connection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread < 0) {
    c->Close();  // EOF or error: nothing is in flight while we read
    return;
  }
  if (nread == 0 || c->state_ != State::kOpen) {
    return;  // lingering connections discard what they read
  }
  c->Process(buf->base, static_cast<size_t>(nread));
  if (c->state_ == State::kOpen && c->slow_read_ && c->reading_) {
    c->StopReading();
    c->ArmTimer(TimerUse::kSlowRead, kSlowReadPauseMs);
  }
}

void Connection::OnWrite(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (c->state_ == State::kClosed) {
    return;  // cancelled by Close
  }
  if (status < 0) {
    c->Close();
    return;
  }
  c->Pump();
}

void Connection::OnSideWrite(uv_write_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  c->side_writing_ = false;
  if (status < 0) {
    c->Close();
  }
}

void Connection::OnShutdown(uv_shutdown_t* req, int status) {
  if (status < 0) {
    static_cast<Connection*>(req->data)->Close();
  }
}

void Connection::OnTimer(uv_timer_t* timer) {
  auto* c = static_cast<Connection*>(timer->data);
  const TimerUse use = c->timer_use_;
  c->timer_use_ = TimerUse::kNone;
  switch (use) {
    case TimerUse::kDelay:
      c->Respond();
      break;
    case TimerUse::kSlowRead:
      if (!c->resp_.active) {
        c->StartReading();
      }
      break;
    case TimerUse::kReset:
      c->Reset();
      break;
    case TimerUse::kLinger:
      c->Close();
      break;
    case TimerUse::kNone:
      break;
  }
}

void Connection::OnClosed(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->open_handles_ == 0) {
    delete c;
  }
}

int Connection::OnMessageBegin(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  c->url_.clear();
  c->header_bytes_.clear();
  c->headers_.clear();
  c->in_field_ = false;
  c->target_ = Target{};
  c->body_bytes_ = 0;
  c->body_fnv_ = Fnv1a64{};
  return 0;
}

int Connection::OnUrl(llhttp_t* parser, const char* at, size_t len) {
  static_cast<Connection*>(parser->data)->url_.append(at, len);
  return 0;
}

int Connection::OnHeaderField(llhttp_t* parser, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(parser->data);
  if (!c->in_field_) {
    c->headers_.push_back(HeaderSpan{c->header_bytes_.size(), 0, 0, 0});
    c->in_field_ = true;
  }
  c->header_bytes_.append(at, len);
  c->headers_.back().name_len += len;
  return 0;
}

int Connection::OnHeaderFieldComplete(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  // Ends the name even when no value callback follows (an empty value).
  c->in_field_ = false;
  if (!c->headers_.empty()) {
    c->headers_.back().value_off = c->header_bytes_.size();
  }
  return 0;
}

int Connection::OnHeaderValue(llhttp_t* parser, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(parser->data);
  if (!c->headers_.empty()) {
    c->header_bytes_.append(at, len);
    c->headers_.back().value_len += len;
  }
  return 0;
}

int Connection::OnHeadersComplete(llhttp_t* parser) {
  auto* c = static_cast<Connection*>(parser->data);
  c->keep_alive_ = llhttp_should_keep_alive(parser) != 0;
  c->method_ = llhttp_get_method(parser);
  c->http_major_ = llhttp_get_http_major(parser);
  c->http_minor_ = llhttp_get_http_minor(parser);
  c->target_ = ParseTarget(c->url_);
  c->slow_read_ = c->target_.endpoint == Endpoint::kSlowRead;
  if ((c->http_major_ > 1 || c->http_minor_ >= 1) && c->HasHeaderToken("expect", "100-continue")) {
    c->SendSide(kContinue.data(), kContinue.size());
  }
  return c->state_ == State::kOpen ? 0 : -1;
}

int Connection::OnBody(llhttp_t* parser, const char* at, size_t len) {
  auto* c = static_cast<Connection*>(parser->data);
  c->body_bytes_ += len;
  c->body_fnv_.Update(at, len);
  return 0;
}

int Connection::OnMessageComplete(llhttp_t* /*parser*/) {
  // Stops the parser right after this request; Process answers it before parsing the next.
  return HPE_PAUSED;
}

void Connection::Process(const char* data, size_t len) {
  in_process_ = true;
  while (state_ == State::kOpen) {
    const llhttp_errno_t err = llhttp_execute(&parser_, data, len);
    if (state_ != State::kOpen || err == HPE_OK) {
      break;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      // Upgrade and CONNECT requests are answered like any other; keep parsing HTTP after them.
      const char* pos = llhttp_get_error_pos(&parser_);
      len -= static_cast<size_t>(pos - data);
      data = pos;
      llhttp_resume_after_upgrade(&parser_);
      continue;
    }
    if (err != HPE_PAUSED) {
      std::string body = "{\"error\":";
      AppendJsonString(body, llhttp_get_error_reason(&parser_));
      body += '}';
      StopReading();
      resp_ = Response{};
      resp_.active = true;
      method_ = HTTP_GET;
      http_major_ = 1;
      http_minor_ = 1;
      SetFixed(400, kJson, body, After::kClose);
      in_process_ = false;
      Pump();
      return;
    }
    const char* pos = llhttp_get_error_pos(&parser_);
    len -= static_cast<size_t>(pos - data);
    data = pos;
    llhttp_resume(&parser_);
    StartResponse();
    if (state_ == State::kOpen && resp_.active) {
      // The answer is still being written (or waits): keep the rest for later, read no more.
      pending_.assign(data, len);
      StopReading();
      in_process_ = false;
      return;
    }
  }
  in_process_ = false;
  if (state_ == State::kOpen && !resp_.active) {
    StartReading();
  }
}

void Connection::StartResponse() {
  slow_read_ = false;
  if (timer_use_ == TimerUse::kSlowRead) {
    uv_timer_stop(&timer_);
    timer_use_ = TimerUse::kNone;
  }
  resp_ = Response{};
  resp_.active = true;
  if (target_.endpoint != Endpoint::kStats) {
    ++server_.requests;
  }
  uint64_t delay_ms = target_.sleep_ms;
  if (target_.endpoint == Endpoint::kDelay || target_.endpoint == Endpoint::kHeadersDelay) {
    delay_ms = target_.number;
  }
  if (delay_ms > 0) {
    ArmTimer(TimerUse::kDelay, delay_ms);
    return;
  }
  Respond();
}

void Connection::Pump() {
  while (state_ == State::kOpen && resp_.active) {
    uv_buf_t bufs[3];
    unsigned count = 0;
    if (!resp_.head_sent) {
      resp_.head_sent = true;
      bufs[count++] = Buf(resp_.fixed, resp_.fixed_len);
    } else if (resp_.stream && resp_.stream_sent < resp_.stream_total) {
      const size_t len = static_cast<size_t>(
          std::min<uint64_t>(kPieceSize, resp_.stream_total - resp_.stream_sent));
      const char* piece = PatternAt(resp_.stream_sent);
      resp_.stream_sent += len;
      if (resp_.framing == Framing::kChunked) {
        const int n = std::snprintf(chunk_head_, sizeof(chunk_head_), "%zx\r\n", len);
        bufs[count++] = Buf(chunk_head_, static_cast<size_t>(n));
        bufs[count++] = Buf(piece, len);
        bufs[count++] = Buf(kCrlf);
      } else {
        bufs[count++] = Buf(piece, len);
      }
    } else if (resp_.stream && resp_.framing == Framing::kChunked && !resp_.terminator_sent) {
      resp_.terminator_sent = true;
      bufs[count++] = Buf(kLastChunk);
    } else {
      FinishResponse();
      return;
    }
    if (!Write(bufs, count)) {
      return;  // OnWrite continues, or the connection closed
    }
  }
}

bool Connection::Write(uv_buf_t* bufs, unsigned count) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  int n = uv_try_write(stream, bufs, count);
  if (n == UV_EAGAIN) {
    n = 0;
  }
  if (n < 0) {
    Close();
    return false;
  }
  size_t done = static_cast<size_t>(n);
  unsigned first = 0;
  while (first < count && done >= bufs[first].len) {
    done -= bufs[first].len;
    ++first;
  }
  if (first == count) {
    return true;
  }
  bufs[first].base += done;
  bufs[first].len -= done;
  if (uv_write(&write_req_, stream, bufs + first, count - first, OnWrite) != 0) {
    Close();
  }
  return false;
}

void Connection::FinishResponse() {
  switch (resp_.after) {
    case After::kKeepAlive:
      resp_.active = false;
      if (!in_process_) {
        ResumeAfterResponse();
      }
      break;
    case After::kClose:
      resp_.active = false;
      Linger();
      break;
    case After::kReset:
      // Stays active so that nothing more is parsed or answered before the RST.
      ArmTimer(TimerUse::kReset, kResetDelayMs);
      break;
  }
}

void Connection::ResumeAfterResponse() {
  std::string data;
  data.swap(pending_);
  Process(data.data(), data.size());
}

void Connection::StartReading() {
  if (!reading_) {
    if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), OnAlloc, OnRead) != 0) {
      Close();
      return;
    }
    reading_ = true;
  }
}

void Connection::StopReading() {
  if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
}

void Connection::ArmTimer(TimerUse use, uint64_t ms) {
  timer_use_ = use;
  uv_timer_start(&timer_, OnTimer, ms, 0);
}

void Connection::SendSide(const char* data, size_t len) {
  if (side_writing_) {
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  uv_buf_t buf = Buf(data, len);
  int n = uv_try_write(stream, &buf, 1);
  if (n == UV_EAGAIN) {
    n = 0;
  }
  if (n < 0) {
    Close();
    return;
  }
  if (static_cast<size_t>(n) == len) {
    return;
  }
  buf.base += n;
  buf.len -= static_cast<size_t>(n);
  side_writing_ = true;
  if (uv_write(&side_req_, stream, &buf, 1, OnSideWrite) != 0) {
    side_writing_ = false;
    Close();
  }
}

void Connection::Linger() {
  if (state_ != State::kOpen) {
    return;
  }
  state_ = State::kLingering;
  // Closing right away could turn unread input into an RST that destroys the answer in the
  // peer's receive queue; so half-close, drain, and close on EOF or after a timeout.
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), OnShutdown) != 0) {
    Close();
    return;
  }
  ArmTimer(TimerUse::kLinger, kLingerMs);
  StartReading();
}

void Connection::Reset() {
  if (state_ == State::kClosed) {
    return;
  }
  state_ = State::kClosed;
  Unlink();
  if (uv_tcp_close_reset(&tcp_, OnClosed) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClosed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void Connection::Close() {
  if (state_ == State::kClosed) {
    return;
  }
  state_ = State::kClosed;
  Unlink();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
}

void Connection::Unlink() {
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else if (server_.live == this) {
    server_.live = next_;
  }
  if (next_ != nullptr) {
    next_->prev_ = prev_;
  }
  prev_ = nullptr;
  next_ = nullptr;
}

}  // namespace sluice::echo

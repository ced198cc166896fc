// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/http_call.h"

#include <new>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include <llhttp.h>
#include <uv.h>

#include "core/common/strings.h"
#include "core/filter_host/worker_host.h"

namespace sluice::filter_host {

// The call's handles live inside it, so it is freed only after both close callbacks ran
// (`open_handles`); libuv runs the connect and write callbacks (with UV_ECANCELED) before the
// stream's close callback, so they always find it alive.
struct HttpCall {
  struct Field {
    size_t name_off = 0;
    size_t name_len = 0;
    size_t value_off = 0;
    size_t value_len = 0;
  };

  WorkerHost* worker = nullptr;
  bool tracked = false;   // in worker->http_calls_
  bool finished = false;  // done ran (or runs), or the call was cancelled or abandoned
  sluice_http_done_fn done = nullptr;
  void* user_data = nullptr;
  bool head_request = false;
  int open_handles = 0;
  sluice_status deferred = SLUICE_OK;  // an error found inside http_call, reported by the timer
  bool got_bytes = false;
  uv_timer_t timer;
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  uv_write_t write_req;
  std::string out;  // the request as written

  // The response.
  llhttp_t parser;
  sluice_status failure = SLUICE_OK;  // set by a parser callback that refused the response
  bool complete = false;
  bool in_value = false;
  int status = 0;
  std::string head;  // header names and values back to back; `fields` index into it
  std::vector<Field> fields;
  std::string body;
  char buf[16384];
};

namespace {

sluice_http_call* Handle(HttpCall* c) { return reinterpret_cast<sluice_http_call*>(c); }

HttpCall* Of(llhttp_t* p) { return static_cast<HttpCall*>(p->data); }

absl::string_view View(sluice_str s) {
  return s.data == nullptr ? absl::string_view() : absl::string_view(s.data, s.len);
}

void OnHandleClosed(uv_handle_t* h) {
  auto* c = static_cast<HttpCall*>(h->data);
  if (--c->open_handles == 0)
    delete c;
}

// Starts closing both handles; the memory (and the views done was given) stays until the close
// callbacks run on a later turn.
void CloseHandles(HttpCall* c) {
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&c->timer), reinterpret_cast<uv_handle_t*>(&c->tcp)}) {
    if (!uv_is_closing(h))
      uv_close(h, &OnHandleClosed);
  }
}

void Untrack(HttpCall* c) {
  if (c->tracked) {
    c->tracked = false;
    c->worker->UntrackHttpCall(c);
  }
}

// Ends the call from a libuv callback: done runs here, exactly once.
void Finish(HttpCall* c, sluice_status result) {
  if (c->finished)
    return;
  c->finished = true;
  Untrack(c);
  CloseHandles(c);
  if (result != SLUICE_OK) {
    c->done(c->user_data, result, nullptr);
    return;
  }
  absl::InlinedVector<sluice_header, 16> headers;
  headers.reserve(c->fields.size());
  for (const HttpCall::Field& f : c->fields) {
    headers.push_back(
        {{c->head.data() + f.name_off, f.name_len}, {c->head.data() + f.value_off, f.value_len}});
  }
  sluice_http_response r{};
  r.struct_size = sizeof r;
  r.status = c->status;
  r.headers = headers.empty() ? nullptr : headers.data();
  r.header_count = headers.size();
  r.body = {c->body.data(), c->body.size()};
  c->done(c->user_data, SLUICE_OK, &r);
}

// ---- the response parser ----

int OnMessageBegin(llhttp_t* p) {
  // Also after a 1xx response: only the final response is handed over.
  HttpCall* c = Of(p);
  c->status = 0;
  c->head.clear();
  c->fields.clear();
  c->body.clear();
  c->in_value = false;
  return 0;
}

int OnHeaderField(llhttp_t* p, const char* at, size_t len) {
  HttpCall* c = Of(p);
  if (c->head.size() + len > kHttpCallMaxHead) {
    c->failure = SLUICE_ERR_LIMIT;
    return -1;
  }
  if (c->fields.empty() || c->in_value) {
    c->fields.push_back({c->head.size(), 0, c->head.size(), 0});
    c->in_value = false;
  }
  c->head.append(at, len);
  c->fields.back().name_len += len;
  return 0;
}

int OnHeaderValue(llhttp_t* p, const char* at, size_t len) {
  HttpCall* c = Of(p);
  if (c->head.size() + len > kHttpCallMaxHead) {
    c->failure = SLUICE_ERR_LIMIT;
    return -1;
  }
  if (!c->in_value) {
    c->in_value = true;
    c->fields.back().value_off = c->head.size();
  }
  c->head.append(at, len);
  c->fields.back().value_len += len;
  return 0;
}

// Returns 1 (no body) where the method or status says so, whatever the framing headers claim.
int OnHeadersComplete(llhttp_t* p) {
  HttpCall* c = Of(p);
  c->status = p->status_code;
  const bool informational = c->status >= 100 && c->status < 200 && c->status != 101;
  if (c->head_request || informational || c->status == 204 || c->status == 304)
    return 1;
  if ((p->flags & F_CONTENT_LENGTH) != 0 && (p->flags & F_CHUNKED) == 0) {
    if (p->content_length > kHttpCallMaxBody) {
      c->failure = SLUICE_ERR_LIMIT;
      return -1;
    }
    c->body.reserve(static_cast<size_t>(p->content_length));
  }
  return 0;
}

int OnBody(llhttp_t* p, const char* at, size_t len) {
  HttpCall* c = Of(p);
  if (c->body.size() + len > kHttpCallMaxBody) {
    c->failure = SLUICE_ERR_LIMIT;
    return -1;
  }
  c->body.append(at, len);
  return 0;
}

int OnMessageComplete(llhttp_t* p) {
  HttpCall* c = Of(p);
  if (c->status >= 100 && c->status < 200 && c->status != 101)
    return 0;  // an interim response: the final one follows on the same connection
  c->complete = true;
  return HPE_PAUSED;  // nothing after the response is read
}

const llhttp_settings_t& Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = &OnMessageBegin;
    s.on_header_field = &OnHeaderField;
    s.on_header_value = &OnHeaderValue;
    s.on_headers_complete = &OnHeadersComplete;
    s.on_body = &OnBody;
    s.on_message_complete = &OnMessageComplete;
    return s;
  }();
  return settings;
}

// ---- libuv callbacks ----

void OnTimer(uv_timer_t* t) {
  auto* c = static_cast<HttpCall*>(t->data);
  Finish(c, c->deferred != SLUICE_OK ? c->deferred : SLUICE_ERR_LIMIT);
}

void OnAlloc(uv_handle_t* h, size_t, uv_buf_t* out) {
  auto* c = static_cast<HttpCall*>(h->data);
  *out = uv_buf_init(c->buf, sizeof c->buf);
}

void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<HttpCall*>(s->data);
  if (c->finished || nread == 0)
    return;
  llhttp_errno_t err;
  if (nread > 0) {
    c->got_bytes = true;
    err = llhttp_execute(&c->parser, buf->base, static_cast<size_t>(nread));
  } else if (nread == UV_EOF) {
    // A body delimited by the close completes here; anything else is cut short.
    err = llhttp_finish(&c->parser);
  } else {
    Finish(c, SLUICE_ERR_GONE);
    return;
  }
  if (c->complete) {
    Finish(c, SLUICE_OK);
  } else if (c->failure != SLUICE_OK) {
    Finish(c, c->failure);
  } else if (err != HPE_OK || nread < 0) {
    Finish(c, SLUICE_ERR_GONE);  // malformed, or the peer closed before the response ended
  }
}

void OnWritten(uv_write_t* req, int status) {
  auto* c = static_cast<HttpCall*>(req->data);
  // A server may answer and close before reading the whole request: a response that already
  // started is still read to its end (or the deadline).
  if (!c->finished && status < 0 && !c->got_bytes)
    Finish(c, SLUICE_ERR_GONE);
}

void OnConnected(uv_connect_t* req, int status) {
  auto* c = static_cast<HttpCall*>(req->data);
  if (c->finished)
    return;
  if (status < 0) {
    Finish(c, SLUICE_ERR_GONE);
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  uv_buf_t b = uv_buf_init(c->out.data(), static_cast<unsigned>(c->out.size()));
  c->write_req.data = c;
  if (uv_write(&c->write_req, stream, &b, 1, &OnWritten) != 0 ||
      uv_read_start(stream, &OnAlloc, &OnRead) != 0) {
    Finish(c, SLUICE_ERR_GONE);
  }
}

// ---- validation of what the filter hands over ----

bool IsTchar(unsigned char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
    return true;
  return absl::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(ch)) !=
         absl::string_view::npos;
}

bool ValidToken(absl::string_view s) {
  if (s.empty())
    return false;
  for (char ch : s) {
    if (!IsTchar(static_cast<unsigned char>(ch)))
      return false;
  }
  return true;
}

// origin-form: "/" then visible ASCII (the filter encodes anything else).
bool ValidTarget(absl::string_view s) {
  if (s.empty() || s.front() != '/')
    return false;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f || ch == '#')
      return false;
  }
  return true;
}

bool ValidValue(absl::string_view s) {
  return s.find_first_of(absl::string_view("\r\n\0", 3)) == absl::string_view::npos;
}

bool ValidStr(sluice_str s) { return s.data != nullptr || s.len == 0; }

// Fields the host writes itself: a filter's copies are dropped.
bool HostField(absl::string_view name) {
  return IEquals(name, "host") || IEquals(name, "content-length") ||
         IEquals(name, "transfer-encoding") || IEquals(name, "connection");
}

// Methods whose requests carry a body, so Content-Length: 0 is sent even for an empty one.
bool ExpectsBody(absl::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

sluice_status StartHttpCall(sluice_worker* worker, const sluice_http_request* request,
                            sluice_http_done_fn done, void* user_data, sluice_http_call** out) {
  constexpr size_t kNeeded = offsetof(sluice_http_request, body) + sizeof(sluice_str);
  if (worker == nullptr || request == nullptr || done == nullptr || out == nullptr ||
      request->struct_size < kNeeded) {
    return SLUICE_ERR_INVALID;
  }
  auto* wh = reinterpret_cast<WorkerHost*>(worker);
  if (WorkerHost::Current() != wh)
    return SLUICE_ERR_WRONG_THREAD;
  const sluice_http_request& r = *request;
  if (!ValidStr(r.service) || !ValidStr(r.method) || !ValidStr(r.path) || !ValidStr(r.body) ||
      (r.headers == nullptr && r.header_count > 0)) {
    return SLUICE_ERR_INVALID;
  }
  const absl::string_view method = View(r.method);
  const absl::string_view path = View(r.path);
  if (!ValidToken(method) || !ValidTarget(path))
    return SLUICE_ERR_INVALID;
  for (size_t i = 0; i < r.header_count; ++i) {
    const sluice_header& h = r.headers[i];
    if (!ValidStr(h.name) || !ValidStr(h.value) || !ValidToken(View(h.name)) ||
        !ValidValue(View(h.value))) {
      return SLUICE_ERR_INVALID;
    }
  }
  ServiceEndpoint ep;
  if (r.service.len == 0 || !wh->LookupService(View(r.service), &ep))
    return SLUICE_ERR_NOT_FOUND;
  if (!ValidValue(ep.host_header))
    return SLUICE_ERR_INTERNAL;

  auto* c = new (std::nothrow) HttpCall;
  if (c == nullptr)
    return SLUICE_ERR_NO_MEMORY;
  c->worker = wh;
  c->done = done;
  c->user_data = user_data;
  c->head_request = method == "HEAD";

  const absl::string_view body = View(r.body);
  std::string& o = c->out;
  absl::StrAppend(&o, method, " ", path, " HTTP/1.1\r\nHost: ", ep.host_header, "\r\n");
  if (!body.empty() || ExpectsBody(method))
    absl::StrAppend(&o, "Content-Length: ", body.size(), "\r\n");
  for (size_t i = 0; i < r.header_count; ++i) {
    const absl::string_view name = View(r.headers[i].name);
    if (!HostField(name))
      absl::StrAppend(&o, name, ": ", TrimOws(View(r.headers[i].value)), "\r\n");
  }
  absl::StrAppend(&o, "Connection: close\r\n\r\n", body);

  llhttp_init(&c->parser, HTTP_RESPONSE, &Settings());
  c->parser.data = c;

  uv_timer_init(wh->loop(), &c->timer);  // cannot fail
  c->timer.data = c;
  c->open_handles = 1;
  if (uv_tcp_init(wh->loop(), &c->tcp) != 0) {
    c->finished = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), &OnHandleClosed);
    return SLUICE_ERR_INTERNAL;
  }
  c->tcp.data = c;
  c->open_handles = 2;
  uv_tcp_nodelay(&c->tcp, 1);

  const uint64_t timeout_ms = r.timeout_ms != 0    ? r.timeout_ms
                              : ep.timeout_ms != 0 ? ep.timeout_ms
                                                   : kHttpCallDefaultTimeoutMs;
  c->connect_req.data = c;
  if (uv_tcp_connect(&c->connect_req, &c->tcp, ep.address.sa(), &OnConnected) != 0) {
    // Reported from the timer, so done never runs inside http_call.
    c->deferred = SLUICE_ERR_GONE;
    uv_timer_start(&c->timer, &OnTimer, 0, 0);
  } else {
    uv_timer_start(&c->timer, &OnTimer, timeout_ms, 0);
  }
  c->tracked = true;
  wh->TrackHttpCall(c);
  *out = Handle(c);
  return SLUICE_OK;
}

sluice_status CancelHttpCall(sluice_http_call* call) {
  auto* c = reinterpret_cast<HttpCall*>(call);
  if (c == nullptr)
    return SLUICE_ERR_INVALID;
  if (WorkerHost::Current() != c->worker)
    return SLUICE_ERR_WRONG_THREAD;
  if (c->finished)
    return SLUICE_OK;  // inside done: freed once its handles closed
  c->finished = true;
  Untrack(c);
  CloseHandles(c);
  return SLUICE_OK;
}

void AbandonHttpCall(HttpCall* call) {
  call->tracked = false;
  call->finished = true;
  CloseHandles(call);
}

}  // namespace sluice::filter_host

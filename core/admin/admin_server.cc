// SPDX-License-Identifier: Apache-2.0
#include "core/admin/admin_server.h"

#include "absl/strings/str_cat.h"
#include <llhttp.h>

#include "core/common/log.h"
#include "core/http/reply.h"

namespace sluice::admin {
namespace {

constexpr size_t kMaxRequestBytes = 8 * 1024 * 1024;

}  // namespace

struct AdminServer::Conn {
  AdminServer* server;
  uv_tcp_t tcp;
  llhttp_t parser;
  std::string url;
  std::string body;
  std::string out;
  size_t received = 0;
  bool done = false;
  uv_write_t wreq;

  static int OnUrl(llhttp_t* p, const char* at, size_t len) {
    static_cast<Conn*>(p->data)->url.append(at, len);
    return 0;
  }

  static int OnBody(llhttp_t* p, const char* at, size_t len) {
    static_cast<Conn*>(p->data)->body.append(at, len);
    return 0;
  }

  static int OnComplete(llhttp_t* p) {
    static_cast<Conn*>(p->data)->done = true;
    return HPE_PAUSED;
  }

  void Close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
  }

  void Respond(const Response& r) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    out =
        absl::StrCat("HTTP/1.1 ", r.status, " ", http::ReasonPhrase(r.status),
                     "\r\nContent-Type: ", r.content_type, "\r\nContent-Length: ", r.body.size(),
                     "\r\nServer: sluice/" SLUICE_VERSION "\r\nConnection: close\r\n\r\n", r.body);
    uv_buf_t b = uv_buf_init(out.data(), out.size());
    wreq.data = this;
    if (uv_write(&wreq, reinterpret_cast<uv_stream_t*>(&tcp), &b, 1,
                 [](uv_write_t* w, int) { static_cast<Conn*>(w->data)->Close(); }) != 0) {
      Close();
    }
  }
};

AdminServer::AdminServer(uv_loop_t* loop, Handler handler)
    : loop_(loop), handler_(std::move(handler)) {}

AdminServer::~AdminServer() { Close(); }

absl::Status AdminServer::Listen(const net::Address& address) {
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  int rc = uv_tcp_bind(listener_, address.sa(), 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 128, OnConnection);
  if (rc != 0) {
    Close();
    return absl::UnavailableError(
        absl::StrCat("admin listen ", address.ToString(), ": ", uv_strerror(rc)));
  }
  return absl::OkStatus();
}

void AdminServer::Close() {
  if (listener_ == nullptr)
    return;
  uv_close(reinterpret_cast<uv_handle_t*>(listener_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  listener_ = nullptr;
}

void AdminServer::OnConnection(uv_stream_t* listener, int status) {
  if (status != 0)
    return;
  auto* self = static_cast<AdminServer*>(listener->data);
  auto* c = new Conn;
  c->server = self;
  uv_tcp_init(self->loop_, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    c->Close();
    return;
  }
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_url = Conn::OnUrl;
    s.on_body = Conn::OnBody;
    s.on_message_complete = Conn::OnComplete;
    return s;
  }();
  llhttp_init(&c->parser, HTTP_REQUEST, &settings);
  c->parser.data = c;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* conn = static_cast<Conn*>(s->data);
        std::unique_ptr<char[]> owned(buf->base);
        if (nread == 0 || conn->done)
          return;
        if (nread < 0) {
          conn->Close();
          return;
        }
        conn->received += static_cast<size_t>(nread);
        llhttp_errno_t err = llhttp_execute(&conn->parser, buf->base, static_cast<size_t>(nread));
        if (conn->received > kMaxRequestBytes) {
          conn->done = true;
          conn->Respond({413, "application/json", R"({"message":"Payload too large"})"});
          return;
        }
        if (err != HPE_OK && err != HPE_PAUSED) {
          conn->done = true;
          conn->Respond({400, "application/json", R"({"message":"Bad request"})"});
          return;
        }
        if (!conn->done)
          return;
        const char* method =
            llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&conn->parser)));
        absl::string_view path = conn->url;
        path = path.substr(0, path.find('?'));
        conn->Respond(conn->server->handler_(method, path, conn->body));
      });
}

}  // namespace sluice::admin

// SPDX-License-Identifier: Apache-2.0
#include "tests/core/filter_host/http_test_server.h"

#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <string_view>
#include <utility>

#include <catch2/catch.hpp>

namespace sluice::filter_host::testing {

struct HttpTestServer::Client {
  uv_tcp_t tcp;
  HttpTestServer* server = nullptr;  // nullptr once the server is gone
  std::string in;
  bool answered = false;
  char buf[65536];
};

namespace {

struct Write {
  uv_write_t req;
  std::string data;
};

void FreeClient(uv_handle_t* h) {
  auto* c = static_cast<HttpTestServer::Client*>(h->data);
  if (c->server != nullptr)
    c->server->Forget(c);
  delete c;
}

void CloseClient(uv_stream_t* s) {
  auto* h = reinterpret_cast<uv_handle_t*>(s);
  if (!uv_is_closing(h))
    uv_close(h, &FreeClient);
}

// Sends `data`; closes the connection once it left when `close` is set.
void Send(uv_stream_t* s, std::string data, bool close) {
  auto* w = new Write;
  w->data = std::move(data);
  w->req.data = close ? s : nullptr;
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int r = uv_write(&w->req, s, &b, 1, [](uv_write_t* req, int) {
    auto* wr = reinterpret_cast<Write*>(req);
    if (wr->req.data != nullptr)
      CloseClient(static_cast<uv_stream_t*>(wr->req.data));
    delete wr;
  });
  if (r != 0) {
    delete w;
    CloseClient(s);
  }
}

// The Content-Length of a request head (our client writes it in this exact form), or 0.
size_t ContentLength(std::string_view head) {
  size_t at = head.find("\r\nContent-Length: ");
  if (at == std::string_view::npos)
    return 0;
  return static_cast<size_t>(std::strtoul(head.data() + at + 18, nullptr, 10));
}

std::string Field(std::string_view head, std::string_view name) {
  std::string needle = "\r\n" + std::string(name) + ": ";
  size_t at = head.find(needle);
  if (at == std::string_view::npos)
    return "";
  at += needle.size();
  return std::string(head.substr(at, head.find("\r\n", at) - at));
}

}  // namespace

HttpTestServer::HttpTestServer(uv_loop_t* loop) {
  listener_ = new uv_tcp_t;
  REQUIRE(uv_tcp_init(loop, listener_) == 0);
  listener_->data = this;
  sockaddr_in addr{};
  REQUIRE(uv_ip4_addr("127.0.0.1", 0, &addr) == 0);
  REQUIRE(uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
  REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, &OnConnection) == 0);
  sockaddr_in bound{};
  int len = sizeof bound;
  REQUIRE(uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
  port_ = ntohs(bound.sin_port);
}

HttpTestServer::~HttpTestServer() {
  listener_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(listener_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  for (Client* c : std::set<Client*>(clients_)) {
    c->server = nullptr;
    CloseClient(reinterpret_cast<uv_stream_t*>(&c->tcp));
  }
}

void HttpTestServer::OnConnection(uv_stream_t* s, int status) {
  auto* self = static_cast<HttpTestServer*>(s->data);
  if (self == nullptr || status < 0)
    return;
  auto* c = new Client;
  uv_tcp_init(s->loop, &c->tcp);
  c->tcp.data = c;
  c->server = self;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (uv_accept(s, stream) != 0) {
    CloseClient(stream);
    return;
  }
  self->clients_.insert(c);
  uv_read_start(
      stream,
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* cl = static_cast<Client*>(h->data);
        *b = uv_buf_init(cl->buf, sizeof cl->buf);
      },
      &OnRead);
}

void HttpTestServer::OnRead(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  auto* c = static_cast<Client*>(s->data);
  if (n < 0) {
    CloseClient(s);
    return;
  }
  if (c->server == nullptr || c->answered)
    return;
  c->in.append(b->base, static_cast<size_t>(n));
  size_t end = c->in.find("\r\n\r\n");
  if (end == std::string::npos)
    return;
  size_t total = end + 4 + ContentLength(std::string_view(c->in).substr(0, end + 2));
  if (c->in.size() < total)
    return;
  c->answered = true;
  std::string request = c->in.substr(0, total);
  c->server->requests_.push_back(request);
  c->server->Answer(c, request);
}

void HttpTestServer::Answer(Client* c, const std::string& request) {
  auto* s = reinterpret_cast<uv_stream_t*>(&c->tcp);
  const size_t sp = request.find(' ');
  const std::string method = request.substr(0, sp);
  std::string target = request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
  const std::string path = target.substr(0, target.find('?'));
  const size_t head_end = request.find("\r\n\r\n");
  std::string_view head(request.data(), head_end + 2);
  if (path == "/ok") {
    Send(s,
         "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nX-Multi: a\r\nx-multi: b\r\n"
         "Content-Length: 5\r\n\r\nhello",
         true);
  } else if (path == "/chunked") {
    Send(s,
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n"
         "0\r\nx-trailer: t\r\n\r\n",
         true);
  } else if (path == "/eof") {
    Send(s, "HTTP/1.1 200 OK\r\n\r\nuntil close", true);
  } else if (path == "/continue") {
    Send(s,
         "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
         "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter",
         true);
  } else if (path == "/head") {
    Send(s, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true);
  } else if (path == "/empty") {
    Send(s, "HTTP/1.1 204 No Content\r\nx-empty: 1\r\n\r\n", true);
  } else if (path == "/big") {
    Send(s, "HTTP/1.1 200 OK\r\nContent-Length: 9437184\r\n\r\n", false);
  } else if (path == "/huge") {
    const size_t n = (size_t{8} << 20) + 1;
    char size_line[32];
    snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    out += size_line;
    out.append(n, 'x');
    out += "\r\n0\r\n\r\n";
    Send(s, std::move(out), true);
  } else if (path == "/garbage") {
    Send(s, "SMTP ready\r\n\r\n", true);
  } else if (path == "/cut") {
    Send(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
  } else if (path == "/stall") {
    Send(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false);
  } else if (path == "/silent") {
    // Keeps the connection open and says nothing.
  } else if (path == "/fetch") {
    std::string body = method + " " + Field(head, "x-from") + " " + request.substr(head_end + 4);
    Send(s,
         "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body,
         true);
  } else {
    Send(s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", true);
  }
}

}  // namespace sluice::filter_host::testing

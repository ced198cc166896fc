// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/tcp.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <netdb.h>
#include <new>
#include <string>
#include <utility>

#include <uv.h>

#include "core/filter_host/worker_host.h"

namespace sluice::filter_host {
namespace {

// One sluice_tcp*. Freed once nothing can call back (`done`) and no libuv object still points
// at it (`refs`: the getaddrinfo request and the current attempt's handle), so a filter's
// tcp_close from inside any callback is safe.
struct Conn {
  WorkerHost* worker = nullptr;
  sluice_tcp_callbacks cb{};
  void* user_data = nullptr;
  std::string host;
  uint16_t port = 0;
  bool connected = false;
  bool done = false;  // tcp_close, on_close or a failed on_connect happened: no more callbacks
  int refs = 0;
  uv_getaddrinfo_t* resolving = nullptr;
  addrinfo* addrs = nullptr;       // from uv_getaddrinfo, freed with the Conn
  const addrinfo* next = nullptr;  // the next address to try
  uv_tcp_t* tcp = nullptr;         // the current attempt; freed in its close callback
  std::string pending;             // written before the connection was up
  sluice_status close_reason = SLUICE_OK;
  char buf[16384];
};

struct WriteReq {
  uv_write_t req;
  Conn* conn;
  std::string data;
};

sluice_tcp* Handle(Conn* c) { return reinterpret_cast<sluice_tcp*>(c); }

void MaybeFree(Conn* c) {
  if (!c->done || c->refs > 0)
    return;
  if (c->addrs != nullptr)
    uv_freeaddrinfo(c->addrs);
  delete c;
}

void Fail(Conn* c, sluice_status status) {
  c->done = true;
  c->cb.on_connect(c->user_data, Handle(c), status);
}

void TryNext(Conn* c);
void OnAttemptClosed(uv_handle_t* h);

void CloseAttempt(Conn* c) {
  if (c->tcp != nullptr && !uv_is_closing(reinterpret_cast<uv_handle_t*>(c->tcp)))
    uv_close(reinterpret_cast<uv_handle_t*>(c->tcp), &OnAttemptClosed);
}

// Ends a connected Conn from a libuv callback: on_close now, memory once the handle closed.
void Finish(Conn* c, sluice_status reason) {
  c->done = true;
  c->cb.on_close(c->user_data, Handle(c), reason);
  CloseAttempt(c);
}

// A failed attempt, a deferred error or the final close: whatever is owed happens here, on a
// later loop turn than the tcp_* call that may have caused it.
void OnAttemptClosed(uv_handle_t* h) {
  auto* c = static_cast<Conn*>(h->data);
  delete reinterpret_cast<uv_tcp_t*>(h);
  if (c->tcp == reinterpret_cast<uv_tcp_t*>(h))
    c->tcp = nullptr;
  if (!c->done) {
    if (c->connected) {
      c->done = true;
      c->cb.on_close(c->user_data, Handle(c), c->close_reason);
    } else {
      TryNext(c);
    }
  }
  --c->refs;
  MaybeFree(c);
}

void OnAlloc(uv_handle_t* h, size_t, uv_buf_t* out) {
  auto* c = static_cast<Conn*>(h->data);
  *out = uv_buf_init(c->buf, sizeof c->buf);
}

void OnRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Conn*>(s->data);
  if (c->done || nread == 0)
    return;
  if (nread > 0) {
    c->cb.on_read(c->user_data, Handle(c), sluice_str{buf->base, static_cast<size_t>(nread)});
    return;
  }
  Finish(c, nread == UV_EOF ? SLUICE_OK : SLUICE_ERR_GONE);
}

void OnWritten(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Conn* c = w->conn;  // alive: write callbacks run before the handle's close callback
  delete w;
  if (status < 0 && status != UV_ECANCELED && !c->done)
    Finish(c, SLUICE_ERR_GONE);
}

// Sends on a connected stream: uv_try_write first (no copy in the common case; it refuses while
// earlier writes are queued, so order holds), the rest through a queued uv_write.
bool WriteNow(Conn* c, const char* data, size_t len) {
  auto* stream = reinterpret_cast<uv_stream_t*>(c->tcp);
  uv_buf_t b = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
  int n = uv_try_write(stream, &b, 1);
  if (n == static_cast<int>(len))
    return true;
  if (n < 0 && n != UV_EAGAIN)
    return false;
  size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
  auto* w = new (std::nothrow) WriteReq;
  if (w == nullptr)
    return false;
  w->conn = c;
  w->data.assign(data + sent, len - sent);
  w->req.data = w;
  uv_buf_t rest = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, stream, &rest, 1, &OnWritten) != 0) {
    delete w;
    return false;
  }
  return true;
}

// A failure here is reported from the handle's close callback, so never inside a tcp_* call.
void OnConnected(uv_connect_t* req, int status) {
  auto* c = static_cast<Conn*>(req->data);
  delete req;
  if (c->done)
    return;
  if (status < 0) {
    CloseAttempt(c);  // OnAttemptClosed tries the next address
    return;
  }
  c->connected = true;
  auto* stream = reinterpret_cast<uv_stream_t*>(c->tcp);
  std::string pending = std::move(c->pending);
  if (uv_read_start(stream, &OnAlloc, &OnRead) != 0 ||
      (!pending.empty() && !WriteNow(c, pending.data(), pending.size()))) {
    c->close_reason = SLUICE_ERR_GONE;
    CloseAttempt(c);
  }
  c->cb.on_connect(c->user_data, Handle(c), SLUICE_OK);
}

// Starts connecting to `addr`; false when no handle could be made (nothing pending then).
bool StartAttempt(Conn* c, const sockaddr* addr) {
  auto* tcp = new (std::nothrow) uv_tcp_t;
  if (tcp == nullptr)
    return false;
  if (uv_tcp_init(c->worker->loop(), tcp) != 0) {
    delete tcp;
    return false;
  }
  tcp->data = c;
  c->tcp = tcp;
  ++c->refs;
  uv_tcp_nodelay(tcp, 1);
  auto* req = new (std::nothrow) uv_connect_t;
  if (req == nullptr) {
    CloseAttempt(c);
    return true;
  }
  req->data = c;
  if (uv_tcp_connect(req, tcp, addr, &OnConnected) != 0) {
    delete req;
    CloseAttempt(c);
  }
  return true;
}

// Runs in libuv callbacks only: a connection that runs out of addresses fails right here.
void TryNext(Conn* c) {
  while (c->next != nullptr) {
    const addrinfo* a = c->next;
    c->next = a->ai_next;
    if (StartAttempt(c, a->ai_addr))
      return;
  }
  Fail(c, SLUICE_ERR_GONE);
}

void OnResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* c = static_cast<Conn*>(req->data);
  delete req;
  c->resolving = nullptr;
  if (c->done || status < 0) {
    if (res != nullptr)
      uv_freeaddrinfo(res);
    if (!c->done)
      Fail(c, SLUICE_ERR_NOT_FOUND);
  } else {
    c->addrs = res;
    c->next = res;
    TryNext(c);
  }
  --c->refs;
  MaybeFree(c);
}

bool OnWorker(const Conn* c) { return WorkerHost::Current() == c->worker; }

}  // namespace

sluice_status TcpConnect(sluice_worker* worker, sluice_str host, uint16_t port,
                         const sluice_tcp_callbacks* callbacks, void* user_data, sluice_tcp** out) {
  constexpr size_t kNeeded = offsetof(sluice_tcp_callbacks, on_close) + sizeof(void*);
  if (worker == nullptr || out == nullptr || callbacks == nullptr ||
      callbacks->struct_size < kNeeded || callbacks->on_connect == nullptr ||
      callbacks->on_read == nullptr || callbacks->on_close == nullptr || host.data == nullptr ||
      host.len == 0 || port == 0) {
    return SLUICE_ERR_INVALID;
  }
  auto* wh = reinterpret_cast<WorkerHost*>(worker);
  if (WorkerHost::Current() != wh)
    return SLUICE_ERR_WRONG_THREAD;
  auto* c = new (std::nothrow) Conn;
  if (c == nullptr)
    return SLUICE_ERR_NO_MEMORY;
  c->worker = wh;
  std::memcpy(&c->cb, callbacks, std::min<size_t>(callbacks->struct_size, sizeof c->cb));
  c->cb.struct_size = sizeof c->cb;
  c->user_data = user_data;
  c->host.assign(host.data, host.len);
  c->port = port;
  if (c->host.size() > 2 && c->host.front() == '[' && c->host.back() == ']')
    c->host = c->host.substr(1, c->host.size() - 2);

  // Address literals skip the resolver (and its thread pool).
  sockaddr_storage literal{};
  if (uv_ip4_addr(c->host.c_str(), port, reinterpret_cast<sockaddr_in*>(&literal)) == 0 ||
      uv_ip6_addr(c->host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&literal)) == 0) {
    if (!StartAttempt(c, reinterpret_cast<const sockaddr*>(&literal))) {
      delete c;
      return SLUICE_ERR_NO_MEMORY;
    }
    *out = Handle(c);
    return SLUICE_OK;
  }

  auto* req = new (std::nothrow) uv_getaddrinfo_t;
  if (req == nullptr) {
    delete c;
    return SLUICE_ERR_NO_MEMORY;
  }
  req->data = c;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  if (uv_getaddrinfo(wh->loop(), req, &OnResolved, c->host.c_str(), service.c_str(), &hints) != 0) {
    delete req;
    delete c;
    return SLUICE_ERR_INVALID;
  }
  c->resolving = req;
  ++c->refs;
  *out = Handle(c);
  return SLUICE_OK;
}

sluice_status TcpWrite(sluice_tcp* tcp, sluice_str data) {
  auto* c = reinterpret_cast<Conn*>(tcp);
  if (c == nullptr || (data.data == nullptr && data.len > 0))
    return SLUICE_ERR_INVALID;
  if (!OnWorker(c))
    return SLUICE_ERR_WRONG_THREAD;
  if (c->done)
    return SLUICE_ERR_GONE;
  if (data.len == 0)
    return SLUICE_OK;
  if (!c->connected || c->tcp == nullptr) {
    c->pending.append(data.data, data.len);
    return SLUICE_OK;
  }
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(c->tcp)))
    return SLUICE_ERR_GONE;  // a failure is already on its way to on_close
  if (!WriteNow(c, data.data, data.len)) {
    c->close_reason = SLUICE_ERR_GONE;
    CloseAttempt(c);
    return SLUICE_ERR_GONE;
  }
  return SLUICE_OK;
}

sluice_status TcpClose(sluice_tcp* tcp) {
  auto* c = reinterpret_cast<Conn*>(tcp);
  if (c == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker(c))
    return SLUICE_ERR_WRONG_THREAD;
  if (c->done)
    return SLUICE_OK;  // inside on_close or a failed on_connect: freed when that returns
  c->done = true;
  c->pending.clear();
  if (c->resolving != nullptr)
    uv_cancel(reinterpret_cast<uv_req_t*>(c->resolving));  // OnResolved still runs and frees
  CloseAttempt(c);
  MaybeFree(c);
  return SLUICE_OK;
}

}  // namespace sluice::filter_host

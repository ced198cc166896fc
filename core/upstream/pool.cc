// SPDX-License-Identifier: Apache-2.0
#include "core/upstream/pool.h"

#include <netinet/in.h>

namespace sluice::upstream {
namespace {

void FreeOnClose(uv_handle_t* h) { delete static_cast<Connection*>(h->data); }

// Any byte or EOF on an idle connection means it can no longer carry a request.
void IdleAlloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  static thread_local char scratch[64];
  *buf = uv_buf_init(scratch, sizeof scratch);
}

void IdleRead(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  if (nread == 0)
    return;
  auto* c = static_cast<Connection*>(s->data);
  c->pool->Close(c);
}

void OnConnect(uv_connect_t* req, int status) {
  auto* c = static_cast<Connection*>(req->data);
  if (status == UV_ECANCELED || c->on_connect == nullptr)
    return;
  ConnectCallback cb = c->on_connect;
  c->on_connect = nullptr;
  cb(c->owner, status);
}

}  // namespace

void ReadWith(Connection* c, uv_alloc_cb alloc, uv_read_cb read) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (c->reading) {
    stream->alloc_cb = alloc;
    stream->read_cb = read;
    return;
  }
  c->reading = true;
  uv_read_start(stream, alloc, read);
}

void StopReads(Connection* c) {
  if (!c->reading)
    return;
  c->reading = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
}

PoolKey PoolKey::From(const net::Address& a) {
  PoolKey k;
  k.family = static_cast<uint8_t>(a.storage.ss_family);
  k.port = static_cast<uint16_t>(a.port());
  if (a.storage.ss_family == AF_INET6) {
    std::memcpy(k.ip, &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr, 16);
  } else {
    std::memcpy(k.ip, &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr, 4);
  }
  return k;
}

Pool::Pool(uv_loop_t* loop, size_t max_idle_per_key, uint64_t idle_timeout_ms)
    : loop_(loop), max_idle_per_key_(max_idle_per_key), idle_timeout_ms_(idle_timeout_ms) {
  sweep_timer_ = new uv_timer_t;
  uv_timer_init(loop_, sweep_timer_);
  sweep_timer_->data = this;
  uv_timer_start(
      sweep_timer_, [](uv_timer_t* t) { static_cast<Pool*>(t->data)->Sweep(); }, 1000, 1000);
  uv_unref(reinterpret_cast<uv_handle_t*>(sweep_timer_));
}

Pool::~Pool() { Shutdown(); }

Connection* Pool::AcquireIdle(const net::Address& addr) {
  auto it = idle_.find(PoolKey::From(addr));
  if (it == idle_.end() || it->second.head == nullptr)
    return nullptr;
  Connection* c = it->second.head;
  Unlink(c);
  c->reused = true;
  return c;
}

Connection* Pool::Connect(const net::Address& addr, ConnectCallback cb, void* owner, int* err) {
  auto* c = new Connection;
  c->pool = this;
  c->key = PoolKey::From(addr);
  c->on_connect = cb;
  c->owner = owner;
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  c->connect_req.data = c;
  uv_tcp_nodelay(&c->tcp, 1);
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr.sa(), OnConnect);
  if (rc != 0) {
    *err = rc;
    c->on_connect = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), FreeOnClose);
    return nullptr;
  }
  return c;
}

void Pool::Release(Connection* c) {
  if (sweep_timer_ == nullptr) {
    Close(c);
    return;
  }
  IdleList& list = idle_[c->key];
  if (list.size >= max_idle_per_key_) {
    Close(c);
    return;
  }
  c->tcp.data = c;
  c->owner = nullptr;
  c->idle = true;
  c->idle_since_ms = uv_now(loop_);
  c->prev = nullptr;
  c->next = list.head;
  if (list.head)
    list.head->prev = c;
  list.head = c;
  if (list.tail == nullptr)
    list.tail = c;
  ++list.size;
  ReadWith(c, IdleAlloc, IdleRead);
}

void Pool::Close(Connection* c) {
  if (c->idle)
    Unlink(c);
  c->on_connect = nullptr;
  c->owner = nullptr;
  c->tcp.data = c;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), FreeOnClose);
}

void Pool::Unlink(Connection* c) {
  IdleList& list = idle_[c->key];
  if (c->prev)
    c->prev->next = c->next;
  if (c->next)
    c->next->prev = c->prev;
  if (list.head == c)
    list.head = c->next;
  if (list.tail == c)
    list.tail = c->prev;
  c->prev = c->next = nullptr;
  c->idle = false;
  --list.size;
}

void Pool::Sweep() {
  uint64_t now = uv_now(loop_);
  for (auto& [key, list] : idle_) {
    // The tail is the least recently used; stop at the first one still fresh.
    while (list.tail && now - list.tail->idle_since_ms >= idle_timeout_ms_)
      Close(list.tail);
  }
}

void Pool::Shutdown() {
  if (sweep_timer_ == nullptr)
    return;
  for (auto& [key, list] : idle_) {
    while (list.head)
      Close(list.head);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(sweep_timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  sweep_timer_ = nullptr;
}

}  // namespace sluice::upstream

// SPDX-License-Identifier: Apache-2.0
#include "core/net/resolver.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace sluice::net {

struct Resolver::Lookup {
  Resolver* resolver = nullptr;
  std::string host;
  int family = AF_INET;  // A first; AAAA only when the name has no A record (Kong's order)
  Done done = nullptr;
  void* owner = nullptr;
  int port = 0;
  bool in_call = false;  // inside ares_getaddrinfo: an answer now is handed back by Resolve
  bool finished = false;
  Resolution result;
};

namespace {

// One watched c-ares socket.
struct Poll {
  uv_poll_t handle;
  ares_socket_t fd;
};

int ToUvError(int ares_status) {
  switch (ares_status) {
    case ARES_ENOTFOUND:
      return UV_EAI_NONAME;
    case ARES_ENODATA:
      return UV_EAI_NODATA;
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
      return UV_EAI_AGAIN;
    case ARES_ENOMEM:
      return UV_EAI_MEMORY;
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return UV_EAI_CANCELED;
    default:
      return UV_EAI_FAIL;
  }
}

Resolution FromAnswer(int status, const ares_addrinfo* res, int port) {
  Resolution r;
  if (status != ARES_SUCCESS) {
    r.status = ToUvError(status);
    return r;
  }
  bool any_v4 = false;
  bool first_ttl = true;
  for (const ares_addrinfo_node* n = res != nullptr ? res->nodes : nullptr; n; n = n->ai_next) {
    if (n->ai_family != AF_INET && n->ai_family != AF_INET6)
      continue;
    any_v4 = any_v4 || n->ai_family == AF_INET;
    const uint32_t ttl = n->ai_ttl > 0 ? static_cast<uint32_t>(n->ai_ttl) : 0;
    r.ttl_s = first_ttl ? ttl : std::min(r.ttl_s, ttl);
    first_ttl = false;
  }
  const uint16_t p = htons(static_cast<uint16_t>(port));
  for (const ares_addrinfo_node* n = res != nullptr ? res->nodes : nullptr; n; n = n->ai_next) {
    if (n->ai_family != (any_v4 ? AF_INET : AF_INET6) || n->ai_addrlen > sizeof(Address::storage))
      continue;
    Address a;
    std::memcpy(&a.storage, n->ai_addr, n->ai_addrlen);
    a.len = n->ai_addrlen;
    if (n->ai_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = p;
    } else {
      reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = p;
    }
    r.addresses.push_back(a);
  }
  if (r.addresses.empty()) {
    r.status = UV_EAI_NODATA;
    return r;
  }
  auto bytes = [](const Address& x) {
    return std::string_view(reinterpret_cast<const char*>(&x.storage), x.len);
  };
  std::sort(r.addresses.begin(), r.addresses.end(),
            [&](const Address& x, const Address& y) { return bytes(x) < bytes(y); });
  r.addresses.erase(
      std::unique(r.addresses.begin(), r.addresses.end(),
                  [&](const Address& x, const Address& y) { return bytes(x) == bytes(y); }),
      r.addresses.end());
  return r;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create(uv_loop_t* loop,
                                                           const ResolverOptions& options) {
  static std::once_flag init_once;
  static int init_rc = ARES_SUCCESS;
  std::call_once(init_once, [] { init_rc = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_rc != ARES_SUCCESS)
    return absl::InternalError(absl::StrCat("c-ares: ", ares_strerror(init_rc)));

  std::unique_ptr<Resolver> r(new Resolver(loop));
  ares_options opts{};
  opts.sock_state_cb = OnSockState;
  opts.sock_state_cb_data = r.get();
  opts.timeout = static_cast<int>(options.timeout_ms);
  opts.tries = options.tries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (int rc = ares_init_options(&r->channel_, &opts, mask); rc != ARES_SUCCESS)
    return absl::InternalError(absl::StrCat("c-ares: ", ares_strerror(rc)));
  if (!options.servers.empty()) {
    if (int rc = ares_set_servers_ports_csv(r->channel_, options.servers.c_str());
        rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat("'", options.servers,
                                                     "': expected IP[:PORT] separated by commas (",
                                                     ares_strerror(rc), ")"));
    }
  }
  auto* t = new uv_timer_t;
  uv_timer_init(loop, t);
  t->data = r.get();
  r->timer_.reset(t);
  return r;
}

Resolver::~Resolver() {
  destroying_ = true;  // ares_destroy may complete a lookup with an answer: it is cancelled
  if (channel_ != nullptr)
    ares_destroy(channel_);  // answers every lookup in flight with ARES_EDESTRUCTION
  for (auto& [fd, p] : polls_) {
    uv_poll_stop(p);
    uv_close(reinterpret_cast<uv_handle_t*>(p),
             [](uv_handle_t* h) { delete reinterpret_cast<Poll*>(h); });
  }
}

Resolver::Lookup* Resolver::Resolve(const std::string& host, int port, Done done, void* owner) {
  auto* l = new Lookup();
  l->resolver = this;
  l->host = host;
  l->done = done;
  l->owner = owner;
  l->port = port;
  l->in_call = true;
  Query(l);
  l->in_call = false;
  if (l->finished) {
    const Resolution r = l->result;
    delete l;
    done(owner, r);
    return nullptr;
  }
  ArmTimer();
  return l;
}

void Resolver::Cancel(Lookup* lookup) { lookup->done = nullptr; }

void Resolver::Query(Lookup* l) {
  ares_addrinfo_hints hints{};
  hints.ai_family = l->family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NOSORT;  // sorting would connect() a UDP socket per address
  ares_getaddrinfo(channel_, l->host.c_str(), nullptr, &hints, OnAnswer, l);
}

void Resolver::OnAnswer(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  auto* l = static_cast<Lookup*>(arg);
  Resolver* self = l->resolver;
  if (self->destroying_)
    status = ARES_EDESTRUCTION;
  if (l->family == AF_INET && (status == ARES_ENODATA || status == ARES_ENOTFOUND)) {
    if (res != nullptr)
      ares_freeaddrinfo(res);
    l->family = AF_INET6;  // no A record: try AAAA (this may answer at once, re-entering here)
    self->Query(l);
    return;
  }
  Resolution r = FromAnswer(status, res, l->port);
  if (res != nullptr)
    ares_freeaddrinfo(res);
  if (l->in_call) {
    l->result = r;
    l->finished = true;
    return;
  }
  if (l->done != nullptr)
    l->done(l->owner, r);
  delete l;
}

void Resolver::OnSockState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Resolver*>(data);
  auto it = self->polls_.find(fd);
  if (!readable && !writable) {
    if (it != self->polls_.end()) {
      uv_poll_stop(it->second);
      uv_close(reinterpret_cast<uv_handle_t*>(it->second),
               [](uv_handle_t* h) { delete reinterpret_cast<Poll*>(h); });
      self->polls_.erase(it);
    }
    return;
  }
  uv_poll_t* handle = nullptr;
  if (it != self->polls_.end()) {
    handle = it->second;
  } else {
    auto* p = new Poll();
    p->fd = fd;
    if (uv_poll_init_socket(self->loop_, &p->handle, fd) != 0) {
      delete p;  // c-ares times the query out; nothing else can be done
      return;
    }
    p->handle.data = self;
    handle = &p->handle;
    self->polls_.emplace(fd, handle);
  }
  const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(handle, events, [](uv_poll_t* h, int status, int ev) {
    auto* me = static_cast<Resolver*>(h->data);
    const ares_socket_t sock = reinterpret_cast<Poll*>(h)->fd;
    // On a poll error let c-ares read the socket: it sees the error and fails over.
    const bool rd = status < 0 || (ev & UV_READABLE) != 0;
    const bool wr = status == 0 && (ev & UV_WRITABLE) != 0;
    ares_process_fd(me->channel_, rd ? sock : ARES_SOCKET_BAD, wr ? sock : ARES_SOCKET_BAD);
    me->ArmTimer();
  });
}

void Resolver::ArmTimer() {
  timeval tv{};
  if (ares_timeout(channel_, nullptr, &tv) == nullptr) {
    uv_timer_stop(timer_.get());
    return;
  }
  const uint64_t ms = static_cast<uint64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        auto* me = static_cast<Resolver*>(t->data);
        ares_process_fd(me->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // expire timeouts
        me->ArmTimer();
      },
      ms, 0);
}

}  // namespace sluice::net

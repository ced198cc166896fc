// SPDX-License-Identifier: Apache-2.0
// The host's async TCP (tcp_connect / tcp_write / tcp_close) through the real host table, against
// a libuv echo server on the same loop: every callback and ownership rule of filter.h.
#include <cstdint>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include <sluice/filter.h>

#include "core/filter_host/worker_host.h"
#include "tests/core/filter_host/test_support.h"

namespace sluice::filter_host {
namespace {

using testing::Host;

// Echoes every byte back; a chunk containing "QUIT" makes it close that client instead.
class EchoServer {
 public:
  explicit EchoServer(uv_loop_t* loop) {
    REQUIRE(uv_tcp_init(loop, &server_) == 0);
    server_.data = this;
    sockaddr_in addr{};
    REQUIRE(uv_ip4_addr("127.0.0.1", 0, &addr) == 0);
    REQUIRE(uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 16, &OnConnection) == 0);
    sockaddr_in bound{};
    int len = sizeof bound;
    REQUIRE(uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
    port_ = ntohs(bound.sin_port);
  }

  // Closes the listener and every client; the loop must run afterwards.
  void Close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
    for (uv_tcp_t* c : std::vector<uv_tcp_t*>(clients_.begin(), clients_.end())) {
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(c)))
        uv_close(reinterpret_cast<uv_handle_t*>(c), &FreeClient);
    }
  }

  uint16_t port() const { return port_; }

  int accepted() const { return accepted_; }

 private:
  struct Write {
    uv_write_t req;
    std::string data;
  };

  static void FreeClient(uv_handle_t* h) {
    static_cast<EchoServer*>(h->data)->clients_.erase(reinterpret_cast<uv_tcp_t*>(h));
    delete reinterpret_cast<uv_tcp_t*>(h);
  }

  static void OnConnection(uv_stream_t* s, int status) {
    auto* self = static_cast<EchoServer*>(s->data);
    if (status < 0)
      return;
    auto* c = new uv_tcp_t;
    uv_tcp_init(s->loop, c);
    c->data = self;
    self->clients_.insert(c);
    if (uv_accept(s, reinterpret_cast<uv_stream_t*>(c)) != 0)
      return;
    ++self->accepted_;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(c),
        [](uv_handle_t*, size_t, uv_buf_t* b) {
          static char buf[4096];
          *b = uv_buf_init(buf, sizeof buf);
        },
        &OnRead);
  }

  static void OnRead(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
    if (n < 0) {
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(s)))
        uv_close(reinterpret_cast<uv_handle_t*>(s), &FreeClient);
      return;
    }
    std::string data(b->base, static_cast<size_t>(n));
    if (data.find("QUIT") != std::string::npos) {
      uv_close(reinterpret_cast<uv_handle_t*>(s), &FreeClient);
      return;
    }
    auto* w = new Write;
    w->data = std::move(data);
    uv_buf_t out = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    uv_write(&w->req, s, &out, 1,
             [](uv_write_t* req, int) { delete reinterpret_cast<Write*>(req); });
  }

  uv_tcp_t server_;
  uint16_t port_ = 0;
  int accepted_ = 0;
  std::set<uv_tcp_t*> clients_;  // open ones; FreeClient removes them
};

// What a filter saw, and how it reacts (e.g. close once `close_after` bytes were read).
struct Client {
  const sluice_host_api* api = &Host().api();
  sluice_tcp* tcp = nullptr;
  std::vector<sluice_status> connects;
  std::string received;
  std::vector<sluice_status> closes;
  size_t close_after = 0;  // 0: never close from on_read
  bool close_in_connect = false;
  sluice_status write_in_close = 1;  // what tcp_write answered inside on_close
  int events = 0;

  static Client* Of(void* p) { return static_cast<Client*>(p); }

  static sluice_tcp_callbacks Callbacks() {
    sluice_tcp_callbacks cb{};
    cb.struct_size = sizeof cb;
    cb.on_connect = [](void* ud, sluice_tcp* t, sluice_status r) {
      Client* c = Of(ud);
      ++c->events;
      c->connects.push_back(r);
      if (c->close_in_connect)
        CHECK(c->api->tcp_close(t) == SLUICE_OK);
    };
    cb.on_read = [](void* ud, sluice_tcp* t, sluice_str data) {
      Client* c = Of(ud);
      ++c->events;
      c->received.append(data.data, data.len);
      if (c->close_after != 0 && c->received.size() >= c->close_after)
        CHECK(c->api->tcp_close(t) == SLUICE_OK);
    };
    cb.on_close = [](void* ud, sluice_tcp* t, sluice_status r) {
      Client* c = Of(ud);
      ++c->events;
      c->closes.push_back(r);
      c->write_in_close = c->api->tcp_write(t, {"x", 1});
      CHECK(c->api->tcp_close(t) == SLUICE_OK);  // legal no-op until on_close returns
    };
    return cb;
  }

  sluice_status Connect(WorkerHost& w, const char* host, uint16_t port) {
    sluice_tcp_callbacks cb = Callbacks();
    return api->tcp_connect(reinterpret_cast<sluice_worker*>(&w), {host, strlen(host)}, port, &cb,
                            this, &tcp);
  }

  sluice_status Write(const std::string& s) { return api->tcp_write(tcp, {s.data(), s.size()}); }
};

class Loop {
 public:
  Loop() {
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = std::make_unique<WorkerHost>(&loop_, 0);
    echo_ = std::make_unique<EchoServer>(&loop_);
  }

  ~Loop() {
    echo_->Close();
    worker_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);  // every handle the host made was closed and freed
  }

  // Runs the loop until `done` holds, for at most 15 s (a test fails instead of hanging; the
  // bound is generous because a resolver may be slow to say a name does not exist).
  template <typename F>
  void RunUntil(F done) {
    const uint64_t deadline = uv_hrtime() + 15'000'000'000ull;
    while (!done() && uv_hrtime() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (!done())
        usleep(200);
    }
    REQUIRE(done());
  }

  // A few loop turns, to show that nothing else arrives.
  void Drain() {
    for (int i = 0; i < 20; ++i) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      usleep(500);
    }
  }

  WorkerHost& worker() { return *worker_; }

  EchoServer& echo() { return *echo_; }

 private:
  uv_loop_t loop_;
  std::unique_ptr<WorkerHost> worker_;
  std::unique_ptr<EchoServer> echo_;
};

TEST_CASE("filter_host tcp: the host table offers async TCP", "[filter_host][tcp]") {
  const sluice_host_api* api = &Host().api();
  CHECK(SLUICE_HOST_HAS(api, tcp_connect));
  CHECK(SLUICE_HOST_HAS(api, tcp_write));
  CHECK(SLUICE_HOST_HAS(api, tcp_close));
}

TEST_CASE("filter_host tcp: writes before connect leave first, echo comes back",
          "[filter_host][tcp]") {
  Loop loop;
  Client c;
  SECTION("by address") { REQUIRE(c.Connect(loop.worker(), "127.0.0.1", loop.echo().port()) == 0); }
  SECTION("by name, resolved without blocking") {
    // localhost may resolve to ::1 first, where nothing listens: the next address is tried.
    REQUIRE(c.Connect(loop.worker(), "localhost", loop.echo().port()) == SLUICE_OK);
  }
  CHECK(c.events == 0);  // nothing is called from inside tcp_connect
  REQUIRE(c.Write("hello ") == SLUICE_OK);
  REQUIRE(c.Write("world") == SLUICE_OK);
  CHECK(c.connects.empty());
  loop.RunUntil([&] { return c.received.size() >= 11; });
  CHECK(c.connects == std::vector<sluice_status>{SLUICE_OK});
  CHECK(c.received == "hello world");
  REQUIRE(c.Write("again") == SLUICE_OK);  // after connect: straight to the socket
  loop.RunUntil([&] { return c.received.size() >= 16; });
  CHECK(c.received == "hello worldagain");
  CHECK(c.api->tcp_close(c.tcp) == SLUICE_OK);
  loop.Drain();
  CHECK(c.closes.empty());  // no on_close after tcp_close
}

TEST_CASE("filter_host tcp: peer close reaches on_close once", "[filter_host][tcp]") {
  Loop loop;
  Client c;
  REQUIRE(c.Connect(loop.worker(), "127.0.0.1", loop.echo().port()) == SLUICE_OK);
  REQUIRE(c.Write("ping") == SLUICE_OK);
  loop.RunUntil([&] { return c.received == "ping"; });
  REQUIRE(c.Write("QUIT") == SLUICE_OK);
  loop.RunUntil([&] { return !c.closes.empty(); });
  loop.Drain();
  CHECK(c.closes == std::vector<sluice_status>{SLUICE_OK});
  CHECK(c.write_in_close == SLUICE_ERR_GONE);
  CHECK(c.received == "ping");
}

TEST_CASE("filter_host tcp: a refused port fails on_connect, and nothing follows",
          "[filter_host][tcp]") {
  // Bound but never listening: connects are refused, and no one else can take the port.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  {
    Loop loop;
    Client c;
    REQUIRE(c.Connect(loop.worker(), "127.0.0.1", ntohs(a.sin_port)) == SLUICE_OK);
    REQUIRE(c.Write("lost") == SLUICE_OK);
    loop.RunUntil([&] { return !c.connects.empty(); });
    loop.Drain();
    CHECK(c.connects == std::vector<sluice_status>{SLUICE_ERR_GONE});
    CHECK(c.closes.empty());
    CHECK(c.events == 1);
  }
  close(fd);
}

TEST_CASE("filter_host tcp: an unknown name fails on_connect with not found",
          "[filter_host][tcp]") {
  Loop loop;
  Client c;
  REQUIRE(c.Connect(loop.worker(), "no-such-host.invalid", 6379) == SLUICE_OK);
  loop.RunUntil([&] { return !c.connects.empty(); });
  CHECK(c.connects == std::vector<sluice_status>{SLUICE_ERR_NOT_FOUND});
  CHECK(c.closes.empty());
}

TEST_CASE("filter_host tcp: tcp_close inside a callback ends every callback",
          "[filter_host][tcp]") {
  Loop loop;
  Client c;
  SECTION("inside on_connect: queued bytes are dropped") {
    c.close_in_connect = true;
    REQUIRE(c.Connect(loop.worker(), "127.0.0.1", loop.echo().port()) == SLUICE_OK);
    REQUIRE(c.Write("dropped") == SLUICE_OK);
    loop.RunUntil([&] { return !c.connects.empty(); });
    loop.Drain();
    CHECK(c.connects == std::vector<sluice_status>{SLUICE_OK});
  }
  SECTION("inside on_read: the rest of the echo never arrives") {
    c.close_after = 1;
    REQUIRE(c.Connect(loop.worker(), "127.0.0.1", loop.echo().port()) == SLUICE_OK);
    REQUIRE(c.Write("a") == SLUICE_OK);
    loop.RunUntil([&] { return !c.received.empty(); });
    loop.Drain();
    CHECK(c.received == "a");
  }
  SECTION("while the name is still resolving") {
    REQUIRE(c.Connect(loop.worker(), "localhost", loop.echo().port()) == SLUICE_OK);
    CHECK(c.api->tcp_close(c.tcp) == SLUICE_OK);
    loop.Drain();
    CHECK(c.connects.empty());
  }
  CHECK(c.closes.empty());
}

TEST_CASE("filter_host tcp: bad arguments and the wrong thread are refused", "[filter_host][tcp]") {
  Loop loop;
  const sluice_host_api* api = &Host().api();
  auto* w = reinterpret_cast<sluice_worker*>(&loop.worker());
  sluice_tcp_callbacks cb = Client::Callbacks();
  sluice_tcp* t = nullptr;
  CHECK(api->tcp_connect(w, {"127.0.0.1", 9}, 0, &cb, nullptr, &t) == SLUICE_ERR_INVALID);
  CHECK(api->tcp_connect(w, {"", 0}, 80, &cb, nullptr, &t) == SLUICE_ERR_INVALID);
  CHECK(api->tcp_connect(nullptr, {"127.0.0.1", 9}, 80, &cb, nullptr, &t) == SLUICE_ERR_INVALID);
  sluice_tcp_callbacks no_read = cb;
  no_read.on_read = nullptr;
  CHECK(api->tcp_connect(w, {"127.0.0.1", 9}, 80, &no_read, nullptr, &t) == SLUICE_ERR_INVALID);
  CHECK(api->tcp_write(nullptr, {"x", 1}) == SLUICE_ERR_INVALID);
  CHECK(api->tcp_close(nullptr) == SLUICE_ERR_INVALID);

  Client c;
  REQUIRE(c.Connect(loop.worker(), "127.0.0.1", loop.echo().port()) == SLUICE_OK);
  sluice_status from_thread = SLUICE_OK;
  uv_thread_t th;

  struct Arg {
    Client* c;
    sluice_status* out;
  } arg{&c, &from_thread};

  uv_thread_create(
      &th,
      [](void* p) {
        auto* a = static_cast<Arg*>(p);
        *a->out = a->c->Write("x");
      },
      &arg);
  uv_thread_join(&th);
  CHECK(from_thread == SLUICE_ERR_WRONG_THREAD);
  CHECK(api->tcp_close(c.tcp) == SLUICE_OK);
}

}  // namespace
}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
// The host's async HTTP call (http_call / http_call_cancel) through the real host table, against
// a scripted loopback HTTP server on the same loop: the request on the wire, responses of every
// framing, each error filter.h names, cancellation, and a worker that stops with calls in flight.
#include "core/filter_host/http_call.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include <sluice/filter.h>

#include "core/filter_host/worker_host.h"
#include "tests/core/filter_host/http_test_server.h"
#include "tests/core/filter_host/test_support.h"

namespace sluice::filter_host {
namespace {

using testing::Host;
using testing::HttpTestServer;

sluice_str S(const char* s) { return {s, strlen(s)}; }

// A port on 127.0.0.1 that is bound but never listens while this lives: connects are refused.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }

  ~ClosedPort() { close(fd_); }

  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

ServiceEndpoint Endpoint(uint16_t port, const char* host_header, uint64_t timeout_ms = 5000) {
  ServiceEndpoint e;
  REQUIRE(net::ParseNumeric("127.0.0.1", port, &e.address));
  e.host_header = host_header;
  e.timeout_ms = timeout_ms;
  return e;
}

// What one call's done function saw.
struct Outcome {
  int calls = 0;
  sluice_status result = 1;
  bool had_response = false;
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::function<void(Outcome&)> then;  // runs inside done, after recording

  static void Done(void* ud, sluice_status result, const sluice_http_response* r) {
    auto* o = static_cast<Outcome*>(ud);
    ++o->calls;
    o->result = result;
    o->had_response = r != nullptr;
    if (r != nullptr) {
      CHECK(r->struct_size == sizeof(sluice_http_response));
      o->status = r->status;
      o->body.assign(r->body.data, r->body.len);
      for (size_t i = 0; i < r->header_count; ++i) {
        o->headers.emplace_back(std::string(r->headers[i].name.data, r->headers[i].name.len),
                                std::string(r->headers[i].value.data, r->headers[i].value.len));
      }
    }
    if (o->then)
      o->then(*o);
  }
};

// The worker, its loop and the server; services: "api" (the server, Host api.internal), "slow"
// (the server with a 50 ms default timeout), "refused" (a port nobody listens on).
class Loop {
 public:
  Loop() {
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = std::make_unique<WorkerHost>(&loop_, 0);
    server_ = std::make_unique<HttpTestServer>(&loop_);
    worker_->SetServiceLookup([this](absl::string_view name, ServiceEndpoint* out) {
      ++lookups;
      if (name == "api")
        *out = Endpoint(server_->port(), "api.internal");
      else if (name == "slow")
        *out = Endpoint(server_->port(), "slow.internal", 50);
      else if (name == "refused")
        *out = Endpoint(refused_.port(), "refused.internal");
      else
        return false;
      return true;
    });
  }

  ~Loop() {
    server_.reset();
    worker_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);  // every handle the host made was closed and freed
  }

  // Runs the loop until `done` holds, for at most 15 s (fails instead of hanging).
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

  // Starts a call with `o` as user data.
  sluice_status Call(Outcome* o, const char* service, const char* method, const char* path,
                     const std::vector<sluice_header>& headers = {}, const char* body = "",
                     uint32_t timeout_ms = 0) {
    sluice_http_request r{};
    r.struct_size = sizeof r;
    r.timeout_ms = timeout_ms;
    r.service = S(service);
    r.method = S(method);
    r.path = S(path);
    r.headers = headers.empty() ? nullptr : headers.data();
    r.header_count = headers.size();
    r.body = S(body);
    return api->http_call(w(), &r, &Outcome::Done, o, &call);
  }

  sluice_worker* w() { return reinterpret_cast<sluice_worker*>(worker_.get()); }

  WorkerHost& worker() { return *worker_; }

  HttpTestServer& server() { return *server_; }

  const sluice_host_api* api = &Host().api();
  sluice_http_call* call = nullptr;
  int lookups = 0;

 private:
  uv_loop_t loop_;
  ClosedPort refused_;
  std::unique_ptr<WorkerHost> worker_;
  std::unique_ptr<HttpTestServer> server_;
};

TEST_CASE("filter_host http_call: the host table offers http calls", "[filter_host][http_call]") {
  const sluice_host_api* api = &Host().api();
  CHECK(SLUICE_HOST_HAS(api, http_call));
  CHECK(SLUICE_HOST_HAS(api, http_call_cancel));
}

TEST_CASE("filter_host http_call: the request on the wire, and the whole response",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  // Host, Content-Length, Transfer-Encoding and Connection are the host's: a filter's are dropped.
  std::vector<sluice_header> headers = {{S("x-a"), S(" one ")},
                                        {S("Host"), S("evil")},
                                        {S("content-length"), S("99")},
                                        {S("Transfer-Encoding"), S("chunked")},
                                        {S("connection"), S("keep-alive")},
                                        {S("x-b"), S("")}};
  REQUIRE(loop.Call(&o, "api", "POST", "/ok?x=1", headers, "ping") == SLUICE_OK);
  CHECK(loop.call != nullptr);
  CHECK(o.calls == 0);  // never from inside http_call
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_OK);
  CHECK(o.had_response);
  CHECK(o.status == 200);
  CHECK(o.body == "hello");
  using H = std::pair<std::string, std::string>;
  CHECK(o.headers == std::vector<H>{{"content-type", "text/plain"},
                                    {"X-Multi", "a"},
                                    {"x-multi", "b"},
                                    {"Content-Length", "5"}});
  REQUIRE(loop.server().requests().size() == 1);
  CHECK(loop.server().requests()[0] ==
        "POST /ok?x=1 HTTP/1.1\r\nHost: api.internal\r\nContent-Length: 4\r\nx-a: one\r\n"
        "x-b: \r\nConnection: close\r\n\r\nping");
}

TEST_CASE("filter_host http_call: a GET without a body sends no Content-Length",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  REQUIRE(loop.Call(&o, "api", "GET", "/ok") == SLUICE_OK);
  loop.RunUntil([&] { return o.calls > 0; });
  CHECK(o.result == SLUICE_OK);
  REQUIRE(loop.server().requests().size() == 1);
  CHECK(loop.server().requests()[0] ==
        "GET /ok HTTP/1.1\r\nHost: api.internal\r\nConnection: close\r\n\r\n");
}

TEST_CASE("filter_host http_call: every response framing", "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  const char* method = "GET";
  const char* path = "";
  int status = 200;
  std::string body;
  SECTION("chunked, with a trailer") {
    path = "/chunked";
    body = "hello";
  }
  SECTION("delimited by the close") {
    path = "/eof";
    body = "until close";
  }
  SECTION("interim 103 and 100 responses are skipped") {
    path = "/continue";
    body = "after";
  }
  SECTION("HEAD: Content-Length without a body") {
    method = "HEAD";
    path = "/head";
  }
  SECTION("204 without a body") {
    path = "/empty";
    status = 204;
  }
  SECTION("404 is a response like any other") {
    path = "/nothing-here";
    status = 404;
  }
  REQUIRE(loop.Call(&o, "api", method, path) == SLUICE_OK);
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_OK);
  CHECK(o.status == status);
  CHECK(o.body == body);
  if (std::string(path) == "/continue") {  // only the final response's fields
    using H = std::pair<std::string, std::string>;
    CHECK(o.headers == std::vector<H>{{"Content-Length", "5"}});
  }
}

TEST_CASE("filter_host http_call: an unknown service fails at once with not found",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  auto* marker = reinterpret_cast<sluice_http_call*>(&o);
  loop.call = marker;
  SECTION("a name the config does not have") {
    CHECK(loop.Call(&o, "nope", "GET", "/ok") == SLUICE_ERR_NOT_FOUND);
    CHECK(loop.lookups == 1);
  }
  SECTION("an empty name") { CHECK(loop.Call(&o, "", "GET", "/ok") == SLUICE_ERR_NOT_FOUND); }
  SECTION("a worker without a service lookup") {
    loop.worker().SetServiceLookup(nullptr);
    CHECK(loop.Call(&o, "api", "GET", "/ok") == SLUICE_ERR_NOT_FOUND);
  }
  CHECK(loop.call == marker);  // `out` untouched
  loop.Drain();
  CHECK(o.calls == 0);
  CHECK(loop.server().requests().empty());
}

TEST_CASE("filter_host http_call: a refused connection completes with gone",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  REQUIRE(loop.Call(&o, "refused", "GET", "/ok") == SLUICE_OK);
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_ERR_GONE);
  CHECK_FALSE(o.had_response);
}

TEST_CASE("filter_host http_call: malformed or cut responses complete with gone",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  const char* path = "";
  SECTION("not HTTP") { path = "/garbage"; }
  SECTION("closed before the Content-Length was read") { path = "/cut"; }
  REQUIRE(loop.Call(&o, "api", "GET", path) == SLUICE_OK);
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_ERR_GONE);
  CHECK_FALSE(o.had_response);
}

TEST_CASE("filter_host http_call: a timeout completes with limit", "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  SECTION("the request's timeout") {
    REQUIRE(loop.Call(&o, "api", "GET", "/silent", {}, "", 50) == SLUICE_OK);
  }
  SECTION("the service's read timeout when the request sets none") {
    REQUIRE(loop.Call(&o, "slow", "GET", "/silent") == SLUICE_OK);
  }
  SECTION("a body that stops halfway") {
    REQUIRE(loop.Call(&o, "api", "GET", "/stall", {}, "", 50) == SLUICE_OK);
  }
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_ERR_LIMIT);
  CHECK_FALSE(o.had_response);
}

TEST_CASE("filter_host http_call: a response body over 8 MiB completes with limit",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  SECTION("announced by Content-Length") {
    REQUIRE(loop.Call(&o, "api", "GET", "/big") == SLUICE_OK);
  }
  SECTION("found while reading a chunked body") {
    REQUIRE(loop.Call(&o, "api", "GET", "/huge") == SLUICE_OK);
  }
  loop.RunUntil([&] { return o.calls > 0; });
  loop.Drain();
  CHECK(o.calls == 1);
  CHECK(o.result == SLUICE_ERR_LIMIT);
}

TEST_CASE("filter_host http_call: cancel means done never runs", "[filter_host][http_call]") {
  Loop loop;
  Outcome o;
  SECTION("right after the call started") {
    REQUIRE(loop.Call(&o, "api", "GET", "/ok") == SLUICE_OK);
    CHECK(loop.api->http_call_cancel(loop.call) == SLUICE_OK);
  }
  SECTION("while the server holds the request") {
    REQUIRE(loop.Call(&o, "api", "GET", "/silent", {}, "", 60000) == SLUICE_OK);
    loop.RunUntil([&] { return loop.server().requests().size() == 1; });
    CHECK(loop.api->http_call_cancel(loop.call) == SLUICE_OK);
  }
  SECTION("while connecting to a refused port") {
    REQUIRE(loop.Call(&o, "refused", "GET", "/ok") == SLUICE_OK);
    CHECK(loop.api->http_call_cancel(loop.call) == SLUICE_OK);
  }
  loop.Drain();
  CHECK(o.calls == 0);
}

TEST_CASE("filter_host http_call: inside done, cancel is a no-op and a new call may start",
          "[filter_host][http_call]") {
  Loop loop;
  Outcome first, second;
  sluice_status cancel_in_done = 1;
  sluice_status again = 1;
  first.then = [&](Outcome&) {
    cancel_in_done = loop.api->http_call_cancel(loop.call);
    again = loop.Call(&second, "api", "GET", "/chunked");
  };
  REQUIRE(loop.Call(&first, "api", "GET", "/ok") == SLUICE_OK);
  loop.RunUntil([&] { return second.calls > 0; });
  loop.Drain();
  CHECK(cancel_in_done == SLUICE_OK);
  CHECK(again == SLUICE_OK);
  CHECK(first.calls == 1);
  CHECK(first.body == "hello");
  CHECK(second.calls == 1);
  CHECK(second.body == "hello");
  CHECK(loop.server().requests().size() == 2);
}

TEST_CASE("filter_host http_call: a worker stopping with calls in flight frees them silently",
          "[filter_host][http_call]") {
  Outcome held, connecting, just_started;
  {
    Loop loop;
    REQUIRE(loop.Call(&held, "api", "GET", "/silent", {}, "", 60000) == SLUICE_OK);
    loop.RunUntil([&] { return loop.server().requests().size() == 1; });
    REQUIRE(loop.Call(&connecting, "refused", "GET", "/ok") == SLUICE_OK);
    REQUIRE(loop.Call(&just_started, "api", "GET", "/ok") == SLUICE_OK);
  }  // ~Loop: the worker goes, the loop runs to the end and closes (checked there)
  CHECK(held.calls == 0);
  CHECK(connecting.calls == 0);
  CHECK(just_started.calls == 0);
}

TEST_CASE("filter_host http_call: bad arguments and the wrong thread are refused",
          "[filter_host][http_call]") {
  Loop loop;
  const sluice_host_api* api = loop.api;
  Outcome o;
  sluice_http_request r{};
  r.struct_size = sizeof r;
  r.service = S("api");
  r.method = S("GET");
  r.path = S("/ok");
  sluice_http_call* c = nullptr;
  CHECK(api->http_call(nullptr, &r, &Outcome::Done, &o, &c) == SLUICE_ERR_INVALID);
  CHECK(api->http_call(loop.w(), nullptr, &Outcome::Done, &o, &c) == SLUICE_ERR_INVALID);
  CHECK(api->http_call(loop.w(), &r, nullptr, &o, &c) == SLUICE_ERR_INVALID);
  CHECK(api->http_call(loop.w(), &r, &Outcome::Done, &o, nullptr) == SLUICE_ERR_INVALID);
  sluice_http_request small = r;
  small.struct_size = 8;
  CHECK(api->http_call(loop.w(), &small, &Outcome::Done, &o, &c) == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "", "/ok") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GE T", "/ok") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "ok") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "/a b") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "/a\r\nx: y") == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "/ok", {{S("bad name"), S("v")}}) == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "/ok", {{S(""), S("v")}}) == SLUICE_ERR_INVALID);
  CHECK(loop.Call(&o, "api", "GET", "/ok", {{S("x"), S("a\r\nb: c")}}) == SLUICE_ERR_INVALID);
  sluice_http_request no_headers = r;
  no_headers.header_count = 2;
  CHECK(api->http_call(loop.w(), &no_headers, &Outcome::Done, &o, &c) == SLUICE_ERR_INVALID);
  CHECK(api->http_call_cancel(nullptr) == SLUICE_ERR_INVALID);
  CHECK(loop.lookups == 0);  // argument errors come before the service lookup

  REQUIRE(loop.Call(&o, "api", "GET", "/silent", {}, "", 60000) == SLUICE_OK);

  struct Arg {
    const sluice_host_api* api;
    sluice_worker* worker;
    const sluice_http_request* r;
    Outcome* o;
    sluice_http_call* call;
    sluice_status start = SLUICE_OK;
    sluice_status cancel = SLUICE_OK;
  } arg{api, loop.w(), &r, &o, loop.call};

  uv_thread_t th;
  uv_thread_create(
      &th,
      [](void* p) {
        auto* a = static_cast<Arg*>(p);
        sluice_http_call* out = nullptr;
        a->start = a->api->http_call(a->worker, a->r, &Outcome::Done, a->o, &out);
        a->cancel = a->api->http_call_cancel(a->call);
      },
      &arg);
  uv_thread_join(&th);
  CHECK(arg.start == SLUICE_ERR_WRONG_THREAD);
  CHECK(arg.cancel == SLUICE_ERR_WRONG_THREAD);
  CHECK(api->http_call_cancel(loop.call) == SLUICE_OK);
  loop.Drain();
  CHECK(o.calls == 0);
}

}  // namespace
}  // namespace sluice::filter_host

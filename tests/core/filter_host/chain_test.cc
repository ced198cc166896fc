// SPDX-License-Identifier: Apache-2.0
// Requests through real filter modules: order, local replies, pause and resume on the worker
// loop, the consumer switch, body buffering, an http_call that pauses the request, the two
// plugins/ and a C++ filter that throws.
#include "core/filter_host/chain.h"

#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include "core/filter_host/worker_host.h"
#include "tests/core/filter_host/http_test_server.h"
#include "tests/core/filter_host/test_support.h"

namespace sluice::filter_host {
namespace {

using testing::FixturesDir;
using testing::Host;
using testing::LoadConfig;

std::vector<std::string> Values(const http::HeaderMap& m, absl::string_view name) {
  std::vector<std::string> out;
  m.ForEach(name, [&](absl::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

// One worker with one config, one request at a time, as the proxy would drive it.
class Harness {
 public:
  explicit Harness(const char* yaml) : loader_(FixturesDir(), &Host().api()) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = std::make_unique<WorkerHost>(&loop_, 0);
    config_ = LoadConfig(yaml);
    absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(config_, loader_, Host());
    INFO(chains.status().message());
    REQUIRE(chains.ok());
    chains_ = std::move(*chains);
    filters_ = std::make_unique<WorkerFilters>(*worker_, *chains_);
  }

  ~Harness() {
    chain.End();
    filters_.reset();
    worker_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }

  // Starts a request on route 0 (or `route`).
  void Begin(int route = 0) {
    req.Clear();
    resp.Clear();
    resumed.clear();
    view = RequestView();
    view.request_headers = &req;
    view.method = "GET";
    view.path = "/things";
    view.scheme = "http";
    view.client_address = "127.0.0.1";
    if (route >= 0) {
      view.route = &config_.routes[route];
      view.service = &config_.services[config_.routes[route].service];
    }
    chain.Begin(*filters_, route, &view, &Harness::OnResume, this);
  }

  // Runs the worker loop until a paused phase reported back (bounded).
  void RunUntilResumed() {
    for (int i = 0; i < 1000 && resumed.empty(); ++i)
      uv_run(&loop_, UV_RUN_ONCE);
    REQUIRE(resumed.size() == 1);
  }

  // Step 9 of the integration contract: turns the local reply into the response head.
  Flow ReplyThroughResponseHooks() {
    view.response_headers = &resp;
    view.response_status = chain.local_reply_status();
    chain.LoadLocalReply(&resp);
    return chain.RunResponseHeaders(true);
  }

  uv_loop_t* loop() { return &loop_; }

  WorkerHost& worker() { return *worker_; }

  http::HeaderMap req, resp;
  RequestView view;
  RequestChain chain;
  std::vector<Flow> resumed;

 private:
  static void OnResume(void* owner, Flow flow) {
    static_cast<Harness*>(owner)->resumed.push_back(flow);
  }

  uv_loop_t loop_;
  Loader loader_;
  config::Config config_;
  std::unique_ptr<WorkerHost> worker_;
  std::unique_ptr<Chains> chains_;
  std::unique_ptr<WorkerFilters> filters_;
};

constexpr const char* kService = R"yaml(
_format_version: "3.0"
services:
- name: svc
  url: http://127.0.0.1:9
  routes:
  - name: r
    paths: [/]
)yaml";

std::string With(const char* plugins) { return std::string(kService) + plugins; }

TEST_CASE("filter_host chain: a filter built against the frozen 1.0 header runs",
          "[filter_host][abi]") {
  std::string yaml = With(R"yaml(
plugins:
- name: legacy-1-0
- name: good
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kContinue);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"legacy-1-0", "good"});
}

TEST_CASE("filter_host chain: a local reply skips later filters, all see the reply",
          "[filter_host]") {
  std::string yaml = With(R"yaml(
plugins:
- name: prio-c
- name: good
  config: {reply: 401}
- name: prio-b
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kLocalReply);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"prio-b", "good"});
  CHECK(h.chain.local_reply_status() == 401);
  CHECK(h.chain.local_reply_body() == R"({"message":"good"})");
  REQUIRE(h.ReplyThroughResponseHooks() == Flow::kContinue);
  // Kong: header_filter runs for every plugin of the chain, in priority order.
  CHECK(Values(h.resp, "x-trace") == std::vector<std::string>{"prio-b", "good", "prio-c"});
  CHECK(Values(h.resp, "content-type") == std::vector<std::string>{"application/json"});
}

TEST_CASE("filter_host chain: pause, then resume from a timer on the worker", "[filter_host]") {
  std::string yaml = With(R"yaml(
plugins:
- name: good
  config: {pause: true}
- name: prio-c
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"good"});
  h.RunUntilResumed();
  CHECK(h.resumed[0] == Flow::kContinue);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"good", "prio-c"});
  h.chain.RunLog();
  h.chain.End();
}

// The good.c fixture with {fetch: api}: a POST to the service "api" (the loopback server).
class FetchHarness {
 public:
  explicit FetchHarness(const char* plugins)
      : yaml_(With(plugins)), h(yaml_.c_str()), server(h.loop()) {
    h.worker().SetServiceLookup([this](absl::string_view name, ServiceEndpoint* out) {
      if (name != "api")
        return false;
      REQUIRE(net::ParseNumeric("127.0.0.1", server.port(), &out->address));
      out->host_header = "api.internal";
      return true;
    });
  }

 private:
  std::string yaml_;

 public:
  Harness h;
  testing::HttpTestServer server;  // declared last: closed before the Harness runs the loop out
};

TEST_CASE("filter_host chain: a filter pauses on an http_call and resumes with its response",
          "[filter_host][http_call]") {
  FetchHarness f(R"yaml(
plugins:
- name: good
  config: {fetch: api}
- name: prio-c
)yaml");
  Harness& h = f.h;
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
  CHECK(f.server.requests().empty());
  h.RunUntilResumed();
  CHECK(h.resumed[0] == Flow::kContinue);
  CHECK(Values(h.req, "x-fetched") == std::vector<std::string>{"200 POST good hello text/plain"});
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"good", "prio-c"});
  REQUIRE(f.server.requests().size() == 1);
  CHECK(f.server.requests()[0] ==
        "POST /fetch?from=good HTTP/1.1\r\nHost: api.internal\r\nContent-Length: 5\r\n"
        "x-from: good\r\nConnection: close\r\n\r\nhello");
  h.chain.RunLog();
  h.chain.End();
}

TEST_CASE("filter_host chain: an http_call to an unknown service is answered by the filter",
          "[filter_host][http_call]") {
  FetchHarness f(R"yaml(
plugins:
- name: good
  config: {fetch: elsewhere}
)yaml");
  Harness& h = f.h;
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_status() == 502);
  CHECK(h.chain.local_reply_body() == "no such service");
}

TEST_CASE("filter_host chain: a request that ends during its http_call cancels it",
          "[filter_host][http_call]") {
  FetchHarness f(R"yaml(
plugins:
- name: good
  config: {fetch: api}
)yaml");
  Harness& h = f.h;
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
  h.chain.End();  // on_request_destroy cancels the call: its done never touches the request
  for (int i = 0; i < 100; ++i) {
    uv_run(h.loop(), UV_RUN_NOWAIT);
    usleep(500);
  }
  CHECK(h.resumed.empty());
  CHECK(f.server.requests().empty());  // cancelled before the request was written
}

TEST_CASE("filter_host chain: a C++ filter through sluice::HttpCall and the credential wrappers",
          "[filter_host][http_call]") {
  SECTION("the response reaches the member function, then the request resumes") {
    FetchHarness f(R"yaml(
plugins:
- name: fetcher
  config: {service: api, path: /ok}
)yaml");
    Harness& h = f.h;
    h.Begin();
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
    h.RunUntilResumed();
    CHECK(h.resumed[0] == Flow::kContinue);
    CHECK(Values(h.req, "x-fetched") == std::vector<std::string>{"200 hello text/plain"});
    CHECK(Values(h.req, "x-credential") == std::vector<std::string>{"cred-1"});
    CHECK(Values(h.req, "x-credentials") == std::vector<std::string>{"[] refused"});
    REQUIRE(f.server.requests().size() == 1);
    CHECK(f.server.requests()[0] ==
          "GET /ok HTTP/1.1\r\nHost: api.internal\r\naccept: text/plain\r\n"
          "Connection: close\r\n\r\n");
    h.chain.RunLog();
    h.chain.End();
  }
  SECTION("a malformed response: the completion answers 502 while paused") {
    FetchHarness f(R"yaml(
plugins:
- name: fetcher
  config: {service: api, path: /garbage}
)yaml");
    Harness& h = f.h;
    h.Begin();
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
    h.RunUntilResumed();
    CHECK(h.resumed[0] == Flow::kLocalReply);
    CHECK(h.chain.local_reply_status() == 502);
    CHECK(h.chain.local_reply_body() == R"({"error":-8})");
  }
  SECTION("an unknown service: Start fails at once") {
    FetchHarness f(R"yaml(
plugins:
- name: fetcher
  config: {service: nope, path: /ok}
)yaml");
    Harness& h = f.h;
    h.Begin();
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kLocalReply);
    CHECK(h.chain.local_reply_body() == R"({"error":-1})");
  }
  SECTION("a request that ends first: the HttpCall's destructor cancels") {
    FetchHarness f(R"yaml(
plugins:
- name: fetcher
  config: {service: api, path: /ok}
)yaml");
    Harness& h = f.h;
    h.Begin();
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kPause);
    h.chain.End();
    for (int i = 0; i < 100; ++i) {
      uv_run(h.loop(), UV_RUN_NOWAIT);
      usleep(500);
    }
    CHECK(h.resumed.empty());
    CHECK(f.server.requests().empty());  // cancelled before the request was written
  }
}

TEST_CASE("filter_host chain: consumer_set brings in the consumer's plugins", "[filter_host]") {
  std::string yaml = With(R"yaml(
consumers:
- username: alice
- username: bob
plugins:
- name: auth
  config: {consumer: alice}
- name: prio-a
- name: prio-a
  consumer: alice
  config: {reply: 403}
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kLocalReply);
  CHECK(h.chain.consumer() == 0);
  CHECK(h.chain.local_reply_status() == 403);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"auth", "prio-a"});
}

TEST_CASE("filter_host chain: without the consumer, the global instance runs", "[filter_host]") {
  std::string yaml = With(R"yaml(
consumers:
- username: alice
- username: bob
plugins:
- name: auth
  config: {consumer: bob}
- name: prio-a
- name: prio-a
  consumer: alice
  config: {reply: 403}
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kContinue);
  CHECK(h.chain.consumer() == 1);
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"auth", "prio-a"});
}

TEST_CASE("filter_host chain: BUFFER hands the filter the whole body", "[filter_host]") {
  std::string yaml = With(R"yaml(
plugins:
- name: good
  config: {buffer: true}
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.has_request_body_filters());
  REQUIRE(h.chain.RunRequestHeaders(false) == Flow::kContinue);
  REQUIRE(h.chain.RunRequestBody("ab", false) == Flow::kContinue);
  CHECK(h.chain.body_output().empty());
  REQUIRE(h.chain.RunRequestBody("cd", true) == Flow::kContinue);
  CHECK(h.chain.body_output() == "ABCD");
}

TEST_CASE("filter_host chain: the correlation-id (C) and header-stamp (C++) plugins",
          "[filter_host]") {
  std::string yaml = With(R"yaml(
plugins:
- name: correlation-id
- name: header-stamp
  config:
    headers: {X-Served-By: sluice, X-Env: test}
)yaml");
  Harness h(yaml.c_str());

  SECTION("an id is generated and echoed") {
    h.Begin();
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kContinue);
    std::vector<std::string> id = Values(h.req, "x-correlation-id");
    REQUIRE(id.size() == 1);
    CHECK(id[0].size() == 36);
    CHECK(id[0][14] == '4');
    h.view.response_headers = &h.resp;
    h.view.response_status = 200;
    h.resp.Add("Content-Length", "0");
    REQUIRE(h.chain.RunResponseHeaders(true) == Flow::kContinue);
    CHECK(Values(h.resp, "x-correlation-id") == id);
    CHECK(Values(h.resp, "x-served-by") == std::vector<std::string>{"sluice"});
    CHECK(Values(h.resp, "x-env") == std::vector<std::string>{"test"});
  }
  SECTION("a client's id is kept") {
    h.Begin();
    h.req.Add("X-Correlation-ID", "abc");
    REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kContinue);
    CHECK(Values(h.req, "x-correlation-id") == std::vector<std::string>{"abc"});
  }
}

TEST_CASE("filter_host chain: header-stamp rejects a config without headers", "[filter_host]") {
  config::Config cfg = LoadConfig(R"yaml(
_format_version: "3.0"
plugins:
- name: header-stamp
  config:
    header: {X-A: b}
)yaml");
  Loader loader(FixturesDir(), &Host().api());
  absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
  REQUIRE_FALSE(chains.ok());
  CHECK(chains.status().message() == "kong.yml:5:13: config.header: unknown field");
}

TEST_CASE("filter_host chain: a C++ filter that throws answers 500", "[filter_host]") {
  std::string yaml = With(R"yaml(
plugins:
- name: thrower
- name: prio-c
)yaml");
  Harness h(yaml.c_str());
  h.Begin();
  REQUIRE(h.chain.RunRequestHeaders(true) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_status() == 500);
  CHECK(h.chain.local_reply_body() == R"({"message":"An unexpected error occurred"})");
  CHECK(Values(h.req, "x-trace") == std::vector<std::string>{"thrower"});
}

TEST_CASE("filter_host chain: a 404 runs the global plugins only", "[filter_host]") {
  std::string yaml = With(R"yaml(
  plugins:
  - name: prio-a
plugins:
- name: prio-c
)yaml");
  // The indentation above nests prio-a under the service: not global.
  Harness h(yaml.c_str());
  h.Begin(-1);
  h.view.response_headers = &h.resp;
  h.view.response_status = 404;
  REQUIRE(h.chain.RunResponseHeaders(true) == Flow::kContinue);
  CHECK(Values(h.resp, "x-trace") == std::vector<std::string>{"prio-c"});
}

}  // namespace
}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
// A request through a chain of header-only filters allocates nothing on the heap once warm
// (issue #3): the request arena, slots and header maps keep their memory between requests.
// The sanitizer's allocation hook counts every allocation, so the check runs in ASan builds (how
// the suite runs); others skip it.
#include <atomic>
#include <cstddef>
#include <memory>

#include <catch2/catch.hpp>
#include <uv.h>

#include "core/filter_host/chain.h"
#include "core/filter_host/loader.h"
#include "core/filter_host/registry.h"
#include "core/filter_host/worker_host.h"
#include "tests/core/filter_host/test_support.h"
#include "tests/support/alloc_counter.h"

namespace sluice::filter_host {
namespace {

// Three header-only fixtures (each adds an x-trace header per hook and logs on_log).
constexpr const char* kConfig = R"yaml(
_format_version: "3.0"
services:
- name: svc
  url: http://127.0.0.1:9
  routes:
  - name: r
    paths: [/]
plugins:
- name: prio-b
- name: good
- name: prio-c
)yaml";

TEST_CASE("filter_host chain: header-only filters allocate nothing per request once warm",
          "[filter_host]") {
  if (!::sluice::alloc_count::Install()) {
    WARN("allocation counting needs an ASan build; skipped");
    return;
  }
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    Loader loader(testing::FixturesDir(), &testing::Host().api());
    config::Config config = testing::LoadConfig(kConfig);
    auto chains = Chains::Build(config, loader, testing::Host());
    REQUIRE(chains.ok());
    auto worker = std::make_unique<WorkerHost>(&loop, 0);
    auto filters = std::make_unique<WorkerFilters>(*worker, **chains);
    http::HeaderMap req, resp;
    RequestView view;
    RequestChain chain;
    auto one_request = [&] {
      req.Clear();
      resp.Clear();
      req.Add("host", "example.com");
      req.Add("accept", "*/*");
      resp.Add("content-type", "application/json");
      view = RequestView();
      view.request_headers = &req;
      view.method = "GET";
      view.path = "/things";
      view.scheme = "http";
      view.client_address = "127.0.0.1";
      view.route = &config.routes[0];
      view.service = &config.services[0];
      chain.Begin(
          *filters, 0, &view, [](void*, Flow) {}, nullptr);
      CHECK(chain.RunRequestHeaders(true) == Flow::kContinue);
      view.response_headers = &resp;
      view.response_status = 200;
      CHECK(chain.RunResponseHeaders(true) == Flow::kContinue);
      chain.RunLog();
      chain.End();
    };
    for (int i = 0; i < 20; ++i)
      one_request();          // warm: the arena and header maps reach their steady size
    REQUIRE(req.size() > 2);  // the filters did write headers
    const long before = ::sluice::alloc_count::Count();
    for (int i = 0; i < 200; ++i)
      one_request();
    CHECK(::sluice::alloc_count::Count() - before == 0);
    filters.reset();
    worker.reset();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
// Match() must not allocate on the hot path. The sanitizer's allocation hook counts every
// allocation (malloc and operator new, from any library), so the check runs in ASan builds,
// which is how the suite runs (`./dev test`); other builds skip it.
#include <atomic>
#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

#include "tests/core/router/route_builder.h"
#include "tests/support/alloc_counter.h"

namespace sluice::router {
namespace {

using testing::Request;
using testing::RouteBuilder;
using testing::Table;

// Allocations made by one Match() call, after a warm-up call on the same request.
long AllocationsOfMatch(const Router& router, const Request& req) {
  MatchResult res;
  RequestView v = req.View();
  router.Match(v, &res);
  long before = ::sluice::alloc_count::Count();
  router.Match(v, &res);
  return ::sluice::alloc_count::Count() - before;
}

TEST_CASE("router: Match does not allocate", "[router]") {
  if (!::sluice::alloc_count::Install()) {
    WARN("allocation counting needs an ASan build; skipped");
    return;
  }
  {
    // The counter itself works.
    long before = ::sluice::alloc_count::Count();
    std::string big(1000, 'x');
    CHECK(::sluice::alloc_count::Count() > before);
    CHECK(big.size() == 1000);
  }
  Table t;
  for (int i = 0; i < 100; ++i) {
    config::Route r = RouteBuilder("r").Build();
    r.paths.push_back(testing::MakePath("/api/" + std::to_string(i)));
    if (i % 2 == 0) {
      r.hosts.push_back("h" + std::to_string(i) + ".example.com");
    }
    t.config().routes.push_back(r);
  }
  t.Add(RouteBuilder("wild").Hosts({"*.wild.example.com", "example.*"}).Methods({"GET"}));
  t.Add(RouteBuilder("hdr").Header("x-v", {"1", "~*^v\\d$"}).Paths({"/h"}));
  t.Add(RouteBuilder("tmpl").Paths({"/users/{id}/{rest+}"}));
  t.Add(RouteBuilder("re").Paths({"~/items/(?<id>\\d+)"}).RegexPriority(-1));
  t.Add(RouteBuilder("all").Paths({"/"}));
  const Router& router = t.Compile();

  Request req;
  req.Header("X-V", "v2");
  for (const char* host :
       {"h42.example.com", "a.wild.example.com", "example.org", "unknown.test", ""}) {
    for (const char* path : {"/api/42/x", "/h", "/users/1/a/b", "/items/77", "/none"}) {
      req.host = host;
      req.path = path;
      INFO(host << " " << path);
      CHECK(AllocationsOfMatch(router, req) == 0);
    }
  }
}

}  // namespace
}  // namespace sluice::router

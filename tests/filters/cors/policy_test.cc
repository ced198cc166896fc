// SPDX-License-Identifier: Apache-2.0
// cors header plans: preflight replies and normal responses (reference/kong.md §6.2-6.4).
#include "policy.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::filters::cors {
namespace {

// "Name: value" per field of the preflight reply.
std::vector<std::string> Fields(const HeaderPlan& plan) {
  std::vector<std::string> out;
  for (const auto& [name, value] : plan.Resolve())
    out.push_back(std::string(name) + ": " + std::string(value));
  return out;
}

// "set|add|remove Name[: value]" per operation on a normal response.
std::vector<std::string> Ops(const HeaderPlan& plan) {
  std::vector<std::string> out;
  for (const HeaderOp& op : plan) {
    switch (op.kind) {
      case HeaderOp::Kind::kSet:
        out.push_back("set " + std::string(op.name) + ": " + std::string(op.value));
        break;
      case HeaderOp::Kind::kAdd:
        out.push_back("add " + std::string(op.name) + ": " + std::string(op.value));
        break;
      case HeaderOp::Kind::kRemove:
        out.push_back("remove " + std::string(op.name));
        break;
    }
  }
  return out;
}

// The preflight fields for a config given as JSON (the plan borrows from the config, so both
// live only inside this call).
std::vector<std::string> PreflightFields(std::string_view json, const RequestFacts& request) {
  const Config c = ParseConfig(json);
  HeaderPlan plan;
  PlanPreflight(c, request, &plan);
  return Fields(plan);
}

std::vector<std::string> ResponseOps(std::string_view json,
                                     std::optional<std::string_view> origin) {
  const Config c = ParseConfig(json);
  HeaderPlan plan;
  PlanResponse(c, origin, &plan);
  return Ops(plan);
}

RequestFacts Preflight(std::string_view origin = "http://page.example") {
  RequestFacts f;
  f.method = "OPTIONS";
  f.origin = origin;
  f.request_method = "PUT";
  return f;
}

const char* const kAllMethods =
    "Access-Control-Allow-Methods: GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT";

TEST_CASE("cors policy: a preflight needs OPTIONS, Origin and the request method",
          "[filters][cors]") {
  CHECK(IsPreflight(Preflight()));
  RequestFacts f = Preflight();
  f.request_method.reset();
  CHECK_FALSE(IsPreflight(f));  // Kong #8978: a plain OPTIONS is proxied
  f = Preflight();
  f.origin.reset();
  CHECK_FALSE(IsPreflight(f));
  f = Preflight();
  f.method = "GET";
  CHECK_FALSE(IsPreflight(f));
  f = Preflight("");
  CHECK(IsPreflight(f));  // present but empty still counts, as in Kong
}

TEST_CASE("cors policy: preflight with the defaults", "[filters][cors]") {
  const Config c = ParseConfig("{}");
  HeaderPlan plan;
  PlanPreflight(c, Preflight(), &plan);
  CHECK(Fields(plan) == std::vector<std::string>{"Access-Control-Allow-Origin: *", kAllMethods});
}

TEST_CASE("cors policy: preflight Allow-Headers", "[filters][cors]") {
  RequestFacts f = Preflight();
  f.request_headers = "x-one, content-type";
  SECTION("mirrors the request when headers is not configured") {
    CHECK(PreflightFields("{}", f) ==
          std::vector<std::string>{"Access-Control-Allow-Origin: *",
                                   "Access-Control-Allow-Headers: x-one, "
                                   "content-type",
                                   kAllMethods});
  }
  SECTION("mirrors the request when headers is empty") {
    CHECK(PreflightFields(R"({"headers": []})", f)[1] ==
          "Access-Control-Allow-Headers: x-one, content-type");
  }
  SECTION("configured headers win") {
    CHECK(PreflightFields(R"({"headers": ["X-A", "X-B"]})", f)[1] ==
          "Access-Control-Allow-Headers: X-A,X-B");
  }
}

TEST_CASE("cors policy: preflight methods, max age and private network", "[filters][cors]") {
  const Config c =
      ParseConfig(R"({"methods": ["GET", "POST"], "max_age": 600, "private_network": true})");
  RequestFacts f = Preflight();
  SECTION("private network asked for") {
    f.request_private_network = "true";
    HeaderPlan plan;
    PlanPreflight(c, f, &plan);
    CHECK(Fields(plan) == std::vector<std::string>{"Access-Control-Allow-Origin: *",
                                                   "Access-Control-Allow-Methods: GET,POST",
                                                   "Access-Control-Max-Age: 600",
                                                   "Access-Control-Allow-Private-Network: true"});
  }
  SECTION("private network not asked for, or not exactly 'true'") {
    f.request_private_network = "TRUE";
    HeaderPlan plan;
    PlanPreflight(c, f, &plan);
    CHECK(Fields(plan).size() == 3);
  }
  SECTION("private_network off ignores the request") {
    f.request_private_network = "true";
    CHECK(PreflightFields("{}", f).size() == 2);
  }
}

TEST_CASE("cors policy: preflight origins and Vary", "[filters][cors]") {
  const Config c = ParseConfig(R"({"origins": ["http://page.example", "http://b.example"]})");
  SECTION("match") {
    HeaderPlan plan;
    PlanPreflight(c, Preflight("http://page.example:80"), &plan);
    CHECK(Fields(plan) == std::vector<std::string>{"Vary: Origin",
                                                   "Access-Control-Allow-Origin: "
                                                   "http://page.example",
                                                   kAllMethods});
  }
  SECTION("no match: no ACAO, still 200 with the other headers") {
    HeaderPlan plan;
    PlanPreflight(c, Preflight("http://evil.example"), &plan);
    CHECK(Fields(plan) == std::vector<std::string>{"Vary: Origin", kAllMethods});
  }
}

TEST_CASE("cors policy: credentials", "[filters][cors]") {
  SECTION("with '*' the request origin is echoed verbatim") {
    const Config c = ParseConfig(R"({"credentials": true})");
    HeaderPlan plan;
    PlanPreflight(c, Preflight("http://Page.example:80"), &plan);
    CHECK(Fields(plan) == std::vector<std::string>{
                              "Access-Control-Allow-Origin: http://Page.example:80", "Vary: Origin",
                              "Access-Control-Allow-Credentials: true", kAllMethods});
  }
  SECTION("with a list, even without a match") {
    const Config c = ParseConfig(R"({"credentials": true, "origins": ["http://a", "http://b"]})");
    HeaderPlan plan;
    PlanPreflight(c, Preflight("http://evil.example"), &plan);
    CHECK(Fields(plan) == std::vector<std::string>{"Vary: Origin",
                                                   "Access-Control-Allow-Credentials: true",
                                                   kAllMethods});
  }
  SECTION("normal response with '*' and an Origin") {
    const Config c = ParseConfig(R"({"credentials": true})");
    HeaderPlan plan;
    PlanResponse(c, "http://page.example", &plan);
    CHECK(Ops(plan) ==
          std::vector<std::string>{"set Access-Control-Allow-Origin: *", "add Vary: Origin",
                                   "set Access-Control-Allow-Origin: http://page.example",
                                   "set Access-Control-Allow-Credentials: true"});
  }
  SECTION("normal response with '*' and no Origin keeps '*' without credentials") {
    const Config c = ParseConfig(R"({"credentials": true})");
    HeaderPlan plan;
    PlanResponse(c, std::nullopt, &plan);
    CHECK(Ops(plan) == std::vector<std::string>{"set Access-Control-Allow-Origin: *"});
  }
}

TEST_CASE("cors policy: normal responses", "[filters][cors]") {
  using Strings = std::vector<std::string>;
  SECTION("defaults") {
    CHECK(ResponseOps("{}", "http://page.example") ==
          Strings{"set Access-Control-Allow-Origin: *"});
  }
  SECTION("exposed headers") {
    CHECK(ResponseOps(R"({"exposed_headers": ["X-Total", "X-Page"]})", std::nullopt) ==
          Strings{"set Access-Control-Allow-Origin: *",
                  "set Access-Control-Expose-Headers: X-Total,X-Page"});
  }
  SECTION("match appends Vary and sets the normalised origin") {
    CHECK(ResponseOps(R"({"origins": ["https://a.example", "(.*\\.)?b\\.example"]})",
                      "https://x.b.example:443") ==
          Strings{"add Vary: Origin", "set Access-Control-Allow-Origin: https://x.b.example"});
  }
  SECTION("no match removes an upstream ACAO") {
    CHECK(ResponseOps(R"({"origins": ["https://a.example", "https://b.example"]})",
                      "https://c.example") ==
          Strings{"add Vary: Origin", "remove Access-Control-Allow-Origin"});
  }
  SECTION("no Origin and allow_origin_absent false: nothing") {
    CHECK(ResponseOps(R"({"allow_origin_absent": false, "exposed_headers": ["X"]})", std::nullopt)
              .empty());
  }
  SECTION("a '*' after other entries with credentials adds Vary twice, as Kong") {
    CHECK(
        ResponseOps(R"({"origins": ["http://a", "*"], "credentials": true})", "http://z.example") ==
        Strings{"add Vary: Origin", "set Access-Control-Allow-Origin: *", "add Vary: Origin",
                "set Access-Control-Allow-Origin: http://z.example",
                "set Access-Control-Allow-Credentials: true"});
  }
}

TEST_CASE("cors policy: Resolve folds set, add and remove", "[filters][cors]") {
  HeaderPlan plan;
  plan.Add("X-A", "1");
  plan.Add("x-a", "2");
  plan.Set("X-B", "b");
  plan.Set("x-A", "3");
  plan.Remove("x-b");
  plan.Add("X-C", "c");
  CHECK(Fields(plan) == std::vector<std::string>{"x-A: 3", "X-C: c"});
}

}  // namespace
}  // namespace sluice::filters::cors

// SPDX-License-Identifier: Apache-2.0
// jwt.so through the gateway's real filter host (loader, chains, consumer switch, header maps),
// as the proxy drives it: config errors with file:line:col, replies, forwarded headers.
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <uv.h>

#include "core/config/loader.h"
#include "core/filter_host/chain.h"
#include "core/filter_host/filter_host.h"
#include "tests/filters/jwt/test_tokens.h"

namespace sluice::filters::jwt {
namespace {

using filter_host::Chains;
using filter_host::Flow;

filter_host::FilterHost& Host() {
  static auto* host = new filter_host::FilterHost();  // never destroyed: modules keep its table
  return *host;
}

config::Config Load(const std::string& yaml) {
  config::LoadResult r = config::LoadString(yaml, "kong.yml");
  std::string errors;
  for (const config::Error& e : r.errors)
    errors += e.ToString() + "\n";
  INFO(errors);
  REQUIRE(r.ok());
  return std::move(r.config);
}

// The Chains::Build error for `yaml`, or "" when it builds.
std::string BuildError(const std::string& yaml) {
  config::Config cfg = Load(yaml);
  filter_host::Loader loader(SLUICE_JWT_FILTERS_DIR, &Host().api());
  absl::StatusOr<std::unique_ptr<Chains>> chains = Chains::Build(cfg, loader, Host());
  return chains.ok() ? "" : std::string(chains.status().message());
}

constexpr const char* kHead = R"(_format_version: "3.0"
services:
- name: svc
  url: http://127.0.0.1:9
  routes:
  - name: r
    paths: [/]
consumers:
- username: alice
  custom_id: a-1
  jwt_secrets:
  - key: alice-key
    secret: alice-secret
- username: guest
plugins:
- name: jwt
)";

// One worker, one config, one request at a time (as chain_test.cc in core does it).
class Harness {
 public:
  explicit Harness(const std::string& plugin_config)
      : loader_(SLUICE_JWT_FILTERS_DIR, &Host().api()) {
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = std::make_unique<filter_host::WorkerHost>(&loop_, 0);
    config_ = Load(std::string(kHead) + plugin_config);
    auto chains = Chains::Build(config_, loader_, Host());
    INFO(chains.status().message());
    REQUIRE(chains.ok());
    chains_ = std::move(*chains);
    filters_ = std::make_unique<filter_host::WorkerFilters>(*worker_, *chains_);
  }

  ~Harness() {
    chain.End();
    filters_.reset();
    worker_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }

  // Runs the request headers phase of a request with `headers` (name, value pairs).
  Flow Run(std::vector<std::pair<std::string, std::string>> headers, const char* method = "GET",
           const char* query = "") {
    chain.End();
    headers_ = std::move(headers);
    req.Clear();
    resp.Clear();
    for (const auto& [n, v] : headers_)
      req.Add(n, v);
    view = filter_host::RequestView();
    view.request_headers = &req;
    view.method = method;
    view.path = "/";
    view.query = query;
    view.scheme = "http";
    view.client_address = "127.0.0.1";
    view.request_id = "0123456789abcdef0123456789abcdef";
    view.route = &config_.routes[0];
    view.service = &config_.services[0];
    chain.Begin(
        *filters_, 0, &view, [](void*, Flow) {}, nullptr);
    return chain.RunRequestHeaders(true);
  }

  std::string Req(const char* name) const { return std::string(req.Get(name)); }

  bool HasReq(const char* name) const { return req.Find(name) != nullptr; }

  // The local reply's headers, as the client would get them.
  http::HeaderMap& ReplyHeaders() {
    chain.LoadLocalReply(&resp);
    return resp;
  }

  int ConsumerUsernameIs(const char* username) const {
    return chain.consumer() >= 0 && config_.consumers[chain.consumer()].username == username;
  }

  http::HeaderMap req, resp;
  filter_host::RequestView view;
  filter_host::RequestChain chain;

 private:
  uv_loop_t loop_;
  filter_host::Loader loader_;
  config::Config config_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::unique_ptr<filter_host::WorkerHost> worker_;
  std::unique_ptr<Chains> chains_;
  std::unique_ptr<filter_host::WorkerFilters> filters_;
};

std::string AliceToken(const std::string& extra = "") {
  return "Bearer " + testing::HsToken("HS256", "alice-secret",
                                      R"({"iss":"alice-key","sub":"u1")" + extra + "}");
}

TEST_CASE("jwt module: priority 1450 and the name jwt", "[filters][jwt]") {
  filter_host::Loader loader(SLUICE_JWT_FILTERS_DIR, &Host().api());
  auto module = loader.Load("jwt");
  REQUIRE(module.ok());
  CHECK((*module)->desc.priority == 1450);
  CHECK(std::string((*module)->desc.name.data, (*module)->desc.name.len) == "jwt");
}

TEST_CASE("jwt module: config errors point at the field", "[filters][jwt]") {
  CHECK(BuildError(std::string(kHead) + "  config:\n    claims_to_verify: [exp, iat]\n") ==
        "kong.yml:18:29: config.claims_to_verify[1]: expected one of exp, nbf");
  CHECK(BuildError(std::string(kHead) + "  config:\n    nope: 1\n") ==
        "kong.yml:18:11: config.nope: unknown field");
  CHECK(BuildError(std::string(kHead) + "  config:\n    run_on_preflight: maybe\n") ==
        "kong.yml:18:23: config.run_on_preflight: expected a boolean");
}

TEST_CASE("jwt module: a key that does not suit its algorithm names the credential",
          "[filters][jwt]") {
  std::string pem = testing::PublicPem(testing::RsaKey().get());
  std::string indented;
  for (size_t start = 0; start < pem.size();) {
    size_t end = pem.find('\n', start);
    indented += "      " + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  const std::string yaml = R"(_format_version: "3.0"
consumers:
- username: carol
  jwt_secrets:
  - key: carol-ec
    algorithm: ES256
    rsa_public_key: |
)" + indented + "plugins:\n- name: jwt\n";
  const std::string error = BuildError(yaml);
  CHECK(error.substr(error.find(": ") + 2) ==
        "config: jwt_secrets key 'carol-ec' of consumer 'carol': rsa_public_key: expected an EC "
        "public key for ES256");
}

TEST_CASE("jwt module: no token is a 401 with the Bearer challenge", "[filters][jwt]") {
  Harness h("");
  REQUIRE(h.Run({}) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_status() == 401);
  CHECK(h.chain.local_reply_body() == R"({"message":"Unauthorized"})");
  http::HeaderMap& r = h.ReplyHeaders();
  CHECK(r.Get("www-authenticate") == "Bearer");
  CHECK(r.Get("content-type") == "application/json; charset=utf-8");
  CHECK(h.chain.consumer() == -1);
}

TEST_CASE("jwt module: a bad token is a 401 with invalid_token", "[filters][jwt]") {
  Harness h("  config:\n    realm: api\n");
  REQUIRE(h.Run({{"Authorization", "Bearer x.y.z"}}) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_body() == R"({"message":"Bad token; invalid JSON"})");
  CHECK(h.ReplyHeaders().Get("www-authenticate") == R"(Bearer realm="api", error="invalid_token")");
}

TEST_CASE("jwt module: success sets the consumer and the identity headers", "[filters][jwt]") {
  Harness h("");
  REQUIRE(h.Run({{"Authorization", AliceToken(R"(,"roles":["a","b"])")},
                 {"X-Consumer-ID", "evil"},
                 {"X-Anonymous-Consumer", "true"},
                 {"x-user-id", "root"}}) == Flow::kContinue);
  CHECK(h.ConsumerUsernameIs("alice"));
  CHECK_FALSE(h.Req("X-Consumer-ID").empty());
  CHECK(h.Req("X-Consumer-ID") != "evil");
  CHECK(h.Req("X-Consumer-Username") == "alice");
  CHECK(h.Req("X-Consumer-Custom-ID") == "a-1");
  CHECK(h.Req("X-Credential-Identifier") == "alice-key");
  CHECK(h.Req("X-User-ID") == "u1");
  CHECK(h.Req("X-User-Roles") == "a,b");
  CHECK_FALSE(h.HasReq("X-Anonymous-Consumer"));
}

TEST_CASE("jwt module: token from the query and from a cookie", "[filters][jwt]") {
  Harness h("  config:\n    cookie_names: [sess]\n");
  const std::string token = AliceToken().substr(7);
  const std::string query = "a=1&jwt=" + token;
  REQUIRE(h.Run({}, "GET", query.c_str()) == Flow::kContinue);
  CHECK(h.ConsumerUsernameIs("alice"));
  REQUIRE(h.Run({{"Cookie", "x=1"}, {"Cookie", "sess=" + token}}) == Flow::kContinue);
  CHECK(h.Req("X-Credential-Identifier") == "alice-key");
  // The same token twice is one token; a different second one is refused.
  REQUIRE(h.Run({{"Cookie", "sess=" + token}, {"Authorization", "Bearer " + token}}) ==
          Flow::kContinue);
  REQUIRE(h.Run({{"Cookie", "sess=" + token}, {"Authorization", AliceToken(R"(,"x":1)")}}) ==
          Flow::kLocalReply);
  CHECK(h.chain.local_reply_body() == R"({"message":"Multiple tokens provided"})");
}

TEST_CASE("jwt module: roles below required_roles get 403", "[filters][jwt]") {
  Harness h("  config:\n    required_roles: [admin]\n");
  REQUIRE(h.Run({{"Authorization", AliceToken(R"(,"roles":["dev"])")}}) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_status() == 403);
  CHECK(h.chain.local_reply_body() == R"({"message":"Insufficient permissions"})");
  CHECK_FALSE(h.ReplyHeaders().Find("www-authenticate"));
  REQUIRE(h.Run({{"Authorization", AliceToken(R"(,"roles":["dev","admin"])")}}) == Flow::kContinue);
}

TEST_CASE("jwt module: anonymous takes over a failed authentication", "[filters][jwt]") {
  Harness h("  config:\n    anonymous: guest\n");
  REQUIRE(h.Run({{"Authorization", "Bearer nope"},
                 {"X-Credential-Identifier", "forged"},
                 {"X-User-Roles", "admin"}}) == Flow::kContinue);
  CHECK(h.ConsumerUsernameIs("guest"));
  CHECK(h.Req("X-Anonymous-Consumer") == "true");
  CHECK(h.Req("X-Consumer-Username") == "guest");
  CHECK_FALSE(h.HasReq("X-Consumer-Custom-ID"));
  CHECK_FALSE(h.HasReq("X-Credential-Identifier"));
  CHECK_FALSE(h.HasReq("X-User-Roles"));
}

TEST_CASE("jwt module: an anonymous consumer that does not exist is a 500", "[filters][jwt]") {
  Harness h("  config:\n    anonymous: nobody\n");
  REQUIRE(h.Run({}) == Flow::kLocalReply);
  CHECK(h.chain.local_reply_status() == 500);
  CHECK(h.chain.local_reply_body() ==
        R"({"message":"anonymous consumer nobody is configured but doesn't exist",)"
        R"("request_id":"0123456789abcdef0123456789abcdef"})");
}

TEST_CASE("jwt module: run_on_preflight false lets OPTIONS through, headers still cleaned",
          "[filters][jwt]") {
  Harness h("  config:\n    run_on_preflight: false\n");
  REQUIRE(h.Run({{"X-Consumer-ID", "evil"}, {"X-User-ID", "root"}}, "OPTIONS") == Flow::kContinue);
  CHECK(h.chain.consumer() == -1);
  CHECK_FALSE(h.HasReq("X-Consumer-ID"));
  CHECK_FALSE(h.HasReq("X-User-ID"));
  // Other methods are still authenticated.
  REQUIRE(h.Run({}, "GET") == Flow::kLocalReply);
  Harness on("");
  REQUIRE(on.Run({}, "OPTIONS") == Flow::kLocalReply);
}

}  // namespace
}  // namespace sluice::filters::jwt

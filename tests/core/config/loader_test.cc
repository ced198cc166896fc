// SPDX-License-Identifier: Apache-2.0
// The declarative loader on valid input: the kong.md example, deterministic ids, every default
// and every settable field. More in loader_features_test.cc; rejections in
// loader_errors_test.cc.
#include "core/config/loader.h"

#include <string>

#include <catch2/catch.hpp>

#include "core/config/uuid.h"

namespace sluice::config {
namespace {

// Raw strings start with a newline for readability; drop it so line 1 is the first line.
LoadResult Load(const char* text, const std::string& file = "kong.yml") {
  std::string s(text);
  if (!s.empty() && s[0] == '\n') {
    s.erase(0, 1);
  }
  return LoadString(s, file);
}

std::string Errors(const LoadResult& r) {
  std::string out;
  for (const Error& e : r.errors) {
    out += e.ToString() + "\n";
  }
  return out;
}

// The reference/kong.md §1.9 example, verbatim.
constexpr const char* kExample = R"yaml(
_format_version: "3.0"
_transform: true
services:
  - name: orders
    url: http://orders-upstream/api        # host matches the upstream below
    retries: 3
    read_timeout: 15000
    routes:
      - name: orders-v1
        paths: ["/v1/orders"]
        methods: [GET, POST, OPTIONS]
        strip_path: true
      - name: order-by-id
        paths: ["~/v1/orders/(?<id>\\d+)$"]       # regex path: "~" prefix required in 3.0
        methods: [GET, OPTIONS]
        strip_path: false
        plugins:
          - name: request-transformer
            config:
              add: { headers: ["x-order-id:$(uri_captures.id)"] }
    plugins:
      - name: jwt
        config: { claims_to_verify: [exp], run_on_preflight: false }
      - name: cors
        config: { origins: ["https://app.example.com"], credentials: true, max_age: 600 }
      - name: rate-limiting
        config: { minute: 100, limit_by: consumer, policy: local }
consumers:
  - username: alice
    jwt_secrets:
      - key: alice-issuer
        algorithm: HS256
        secret: change-me
    plugins:
      - name: rate-limiting
        config: { minute: 1000 }      # wins over the service-level one for alice
upstreams:
  - name: orders-upstream
    algorithm: round-robin
    healthchecks:
      passive: { unhealthy: { http_failures: 3 } }
    targets:
      - { target: "10.0.0.11:8080", weight: 100 }
      - { target: "10.0.0.12:8080", weight: 50 }
plugins:
  - name: prometheus
    config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true, upstream_health_metrics: true }
)yaml";

TEST_CASE("config: the kong.md example loads with every entity in place", "[config]") {
  LoadResult r = Load(kExample);
  REQUIRE(Errors(r) == "");
  const Config& c = r.config;
  CHECK(c.format_version == "3.0");
  CHECK(c.source_file == "kong.yml");

  REQUIRE(c.services.size() == 1);
  const Service& s = c.services[0];
  CHECK(s.name == "orders");
  CHECK(s.protocol == "http");
  CHECK(s.host == "orders-upstream");
  CHECK(s.port == 80);
  CHECK(s.path == std::optional<std::string>("/api"));
  CHECK(s.retries == 3);
  CHECK(s.read_timeout_ms == 15000);
  CHECK(s.connect_timeout_ms == 60000);
  CHECK(s.mark.line == 4);
  CHECK(s.mark.col == 5);

  REQUIRE(c.routes.size() == 2);
  CHECK(c.routes[0].name == "orders-v1");
  CHECK(c.routes[0].service == 0);
  CHECK(c.routes[0].methods == std::vector<std::string>{"GET", "POST", "OPTIONS"});
  REQUIRE(c.routes[0].paths.size() == 1);
  CHECK(c.routes[0].paths[0].kind == RoutePath::Kind::kPrefix);
  CHECK(c.routes[0].paths[0].pattern == "/v1/orders");
  CHECK(c.routes[0].paths[0].mark.line == 10);
  CHECK(c.routes[0].paths[0].mark.col == 17);
  CHECK(c.routes[1].name == "order-by-id");
  CHECK(c.routes[1].strip_path == false);
  REQUIRE(c.routes[1].paths.size() == 1);
  CHECK(c.routes[1].paths[0].kind == RoutePath::Kind::kRegex);
  CHECK(c.routes[1].paths[0].raw == "~/v1/orders/(?<id>\\d+)$");
  CHECK(c.routes[1].paths[0].pattern == "/v1/orders/(?P<id>\\d+)$");

  REQUIRE(c.plugins.size() == 6);
  // Nested plugins follow their parent; top-level ones come last.
  CHECK(c.plugins[0].name == "request-transformer");
  CHECK(c.plugins[0].route == 1);
  CHECK(c.plugins[0].service == -1);  // a route's plugins get `route`, not `service`
  CHECK(c.plugins[0].config_json ==
        R"json({"add":{"headers":["x-order-id:$(uri_captures.id)"]}})json");
  CHECK(c.plugins[1].name == "jwt");
  CHECK(c.plugins[1].service == 0);
  CHECK(c.plugins[1].config_json == R"({"claims_to_verify":["exp"],"run_on_preflight":false})");
  CHECK(c.plugins[2].name == "cors");
  CHECK(c.plugins[2].config_json ==
        R"({"origins":["https://app.example.com"],"credentials":true,"max_age":600})");
  CHECK(c.plugins[3].name == "rate-limiting");
  CHECK(c.plugins[3].service == 0);
  CHECK(c.plugins[3].config_json == R"({"minute":100,"limit_by":"consumer","policy":"local"})");
  CHECK(c.plugins[4].name == "rate-limiting");
  CHECK(c.plugins[4].consumer == 0);
  CHECK(c.plugins[4].service == -1);
  CHECK(c.plugins[5].name == "prometheus");
  CHECK(c.plugins[5].route == -1);
  CHECK(c.plugins[5].service == -1);
  CHECK(c.plugins[5].consumer == -1);

  REQUIRE(c.consumers.size() == 1);
  CHECK(c.consumers[0].username == "alice");
  REQUIRE(c.consumers[0].jwt_secrets.size() == 1);
  CHECK(c.consumers[0].jwt_secrets[0].key == "alice-issuer");
  CHECK(c.consumers[0].jwt_secrets[0].secret == "change-me");
  CHECK(c.consumers[0].jwt_secrets[0].algorithm == "HS256");

  REQUIRE(c.upstreams.size() == 1);
  const Upstream& u = c.upstreams[0];
  CHECK(u.name == "orders-upstream");
  CHECK(u.healthchecks.passive.unhealthy.http_failures == 3);
  CHECK(u.healthchecks.passive.unhealthy.http_statuses == std::vector<int>{429, 500, 503});
  REQUIRE(u.targets.size() == 2);
  CHECK(u.targets[0].target == "10.0.0.11:8080");
  CHECK(u.targets[0].host == "10.0.0.11");
  CHECK(u.targets[0].port == 8080);
  CHECK(u.targets[0].weight == 100);
  CHECK(u.targets[1].weight == 50);
}

TEST_CASE("config: ids are Kong's deterministic UUIDv5s", "[config]") {
  LoadResult r = Load(kExample);
  REQUIRE(Errors(r) == "");
  const Config& c = r.config;
  // Values computed independently (Python uuid.uuid5) from Kong's derivation: the entity
  // table's namespace, then the endpoint key or the plugin cache key.
  CHECK(c.services[0].id == "580c8aca-d632-5804-b307-a24326e1e2d5");   // "orders"
  CHECK(c.routes[0].id == "95a8204f-b0ca-5182-bfe2-54e7ada6bd2b");     // "orders-v1"
  CHECK(c.consumers[0].id == "b32379d9-3d28-5683-a79c-72139be6e34f");  // "alice"
  CHECK(c.upstreams[0].id == "ce63a8af-8d6d-578e-8d53-d7ddae7b3c9e");  // "orders-upstream"
  // "plugins:jwt::<service id>:"
  CHECK(c.plugins[1].id == "eabeb06d-023f-5dea-933a-d55e95e1df1c");
  // "plugins:request-transformer:<route id>::"
  CHECK(c.plugins[0].id == "347a828a-7e99-5a70-8986-cb6d86593450");
  // "plugins:rate-limiting:::<consumer id>"
  CHECK(c.plugins[4].id == "1fbcd2bf-ecd6-5e9d-ae62-7d9a04bcf65a");
  CHECK(c.plugins[5].id == "86e6f637-64e2-5672-920c-32e17e76e0fe");  // "plugins:prometheus:::"
  CHECK(c.consumers[0].jwt_secrets[0].id == "1e6c79f4-7e93-51ae-873d-a12f247acac2");
  // A second load gives the same ids.
  LoadResult again = Load(kExample);
  CHECK(again.config.plugins[3].id == c.plugins[3].id);
}

TEST_CASE("config: ids written in the file are kept, unnamed entities get positional ids",
          "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
services:
  - id: 0DC6F45B-8F8D-40D2-A504-473544EE190B
    host: a
    routes:
      - paths: [/a]
consumers:
  - custom_id: c1
)yaml");
  REQUIRE(Errors(r) == "");
  CHECK(r.config.services[0].id == "0DC6F45B-8F8D-40D2-A504-473544EE190B");
  CHECK(r.config.routes[0].id == KongEntityId("routes", "services[0].routes[0]"));
  CHECK(r.config.consumers[0].id == KongEntityId("consumers", "consumers[0]"));
  CHECK(r.config.consumers[0].custom_id == "c1");
}

TEST_CASE("config: every default is Kong's", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
services:
  - host: backend
    routes:
      - paths: [/]
        plugins:
          - name: cors
consumers:
  - username: bob
    jwt_secrets:
      - {}
upstreams:
  - name: up
    targets:
      - target: backend.internal
)yaml");
  REQUIRE(Errors(r) == "");
  const Service& s = r.config.services[0];
  CHECK(s.name == "");
  CHECK(s.protocol == "http");
  CHECK(s.port == 80);
  CHECK_FALSE(s.path.has_value());
  CHECK(s.retries == 5);
  CHECK(s.connect_timeout_ms == 60000);
  CHECK(s.write_timeout_ms == 60000);
  CHECK(s.read_timeout_ms == 60000);
  CHECK(s.enabled);
  CHECK(s.tags.empty());

  const Route& rt = r.config.routes[0];
  CHECK(rt.protocols == std::vector<std::string>{"http", "https"});
  CHECK(rt.methods.empty());
  CHECK(rt.hosts.empty());
  CHECK(rt.headers.empty());
  CHECK(rt.strip_path);
  CHECK_FALSE(rt.preserve_host);
  CHECK(rt.regex_priority == 0);
  CHECK(rt.path_handling == "v0");
  CHECK(rt.https_redirect_status_code == 426);
  CHECK(rt.request_buffering);
  CHECK(rt.response_buffering);
  CHECK(rt.service == 0);

  const Plugin& p = r.config.plugins[0];
  CHECK(p.config_json == "{}");
  CHECK(p.config_marks.empty());
  CHECK(p.enabled);
  CHECK(p.protocols == std::vector<std::string>{"grpc", "grpcs", "http", "https"});
  CHECK(p.instance_name == "");

  const JwtSecret& j = r.config.consumers[0].jwt_secrets[0];
  CHECK(j.algorithm == "HS256");
  CHECK(j.key.size() == 32);  // auto-generated, as Kong does
  CHECK(j.secret.size() == 32);
  CHECK(j.rsa_public_key == "");

  const Upstream& u = r.config.upstreams[0];
  CHECK(u.algorithm == "round-robin");
  CHECK(u.hash_on == "none");
  CHECK(u.hash_fallback == "none");
  CHECK(u.hash_on_cookie_path == "/");
  CHECK(u.slots == 10000);
  CHECK(u.host_header == "");
  CHECK_FALSE(u.use_srv_name);
  const Healthchecks& h = u.healthchecks;
  CHECK(h.threshold == 0);
  CHECK(h.active.type == "http");
  CHECK(h.active.timeout == 1);
  CHECK(h.active.concurrency == 10);
  CHECK(h.active.http_path == "/");
  CHECK(h.active.https_sni == "");
  CHECK(h.active.https_verify_certificate);
  CHECK(h.active.headers.empty());
  CHECK(h.active.healthy.interval == 0);
  CHECK(h.active.healthy.http_statuses == std::vector<int>{200, 302});
  CHECK(h.active.healthy.successes == 0);
  CHECK(h.active.unhealthy.interval == 0);
  CHECK(h.active.unhealthy.http_statuses ==
        std::vector<int>{429, 404, 500, 501, 502, 503, 504, 505});
  CHECK(h.active.unhealthy.tcp_failures == 0);
  CHECK(h.active.unhealthy.timeouts == 0);
  CHECK(h.active.unhealthy.http_failures == 0);
  CHECK(h.passive.type == "http");
  CHECK(h.passive.healthy.http_statuses == std::vector<int>{200, 201, 202, 203, 204, 205, 206, 207,
                                                            208, 226, 300, 301, 302, 303, 304, 305,
                                                            306, 307, 308});
  CHECK(h.passive.healthy.successes == 0);
  CHECK(h.passive.unhealthy.http_statuses == std::vector<int>{429, 500, 503});
  CHECK(h.passive.unhealthy.tcp_failures == 0);
  CHECK(h.passive.unhealthy.timeouts == 0);
  CHECK(h.passive.unhealthy.http_failures == 0);

  const Target& t = u.targets[0];
  CHECK(t.host == "backend.internal");
  CHECK(t.port == 8000);  // Kong's DAO default when the port is omitted
  CHECK(t.weight == 100);
}

TEST_CASE("config: every field can be set", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
services:
  - name: s
    protocol: https
    host: 10.1.2.3
    port: 8443
    path: /base
    retries: 0
    connect_timeout: 1
    write_timeout: 2147483646
    read_timeout: 5
    enabled: false
    tags: [a, "b c"]
    routes:
      - name: r
        protocols: [https]
        methods: [GET]
        hosts: ["*.example.com", "example.*", "api.example.com:8443"]
        headers: { X-Version: ["V1", "~*^v2$"] }
        strip_path: false
        preserve_host: true
        regex_priority: -3
        path_handling: v1
        https_redirect_status_code: 308
        request_buffering: false
        response_buffering: false
        snis: []
        tags: [t]
upstreams:
  - name: up
    algorithm: consistent-hashing
    hash_on: header
    hash_on_header: X-User
    hash_fallback: cookie
    hash_on_cookie: session
    hash_on_cookie_path: /app
    slots: 10
    host_header: api.internal:8080
    use_srv_name: true
    healthchecks:
      threshold: 50.5
      active:
        type: https
        timeout: 2.5
        concurrency: 2147483648
        http_path: /health
        https_sni: health.example.com
        https_verify_certificate: false
        headers: { x-probe: [a, b] }
        healthy: { interval: 5, http_statuses: [200], successes: 2 }
        unhealthy: { interval: 3, http_statuses: [500], tcp_failures: 1, timeouts: 255, http_failures: 4 }
      passive:
        type: tcp
        healthy: { http_statuses: [201], successes: 7 }
        unhealthy: { http_statuses: [502], tcp_failures: 5, timeouts: 6, http_failures: 8 }
    targets:
      - { target: "[::1]:9000", weight: 0, tags: [x] }
)yaml");
  REQUIRE(Errors(r) == "");
  const Service& s = r.config.services[0];
  CHECK(s.protocol == "https");
  CHECK(s.host == "10.1.2.3");
  CHECK(s.port == 8443);
  CHECK(s.path == std::optional<std::string>("/base"));
  CHECK(s.retries == 0);
  CHECK(s.connect_timeout_ms == 1);
  CHECK(s.write_timeout_ms == 2147483646);
  CHECK(s.read_timeout_ms == 5);
  CHECK_FALSE(s.enabled);
  CHECK(s.tags == std::vector<std::string>{"a", "b c"});

  const Route& rt = r.config.routes[0];
  CHECK(rt.protocols == std::vector<std::string>{"https"});
  CHECK(rt.hosts == std::vector<std::string>{"*.example.com", "example.*", "api.example.com:8443"});
  REQUIRE(rt.headers.size() == 1);
  CHECK(rt.headers[0].name == "x-version");
  CHECK(rt.headers[0].values == std::vector<std::string>{"v1", "~*^v2$"});
  CHECK_FALSE(rt.strip_path);
  CHECK(rt.preserve_host);
  CHECK(rt.regex_priority == -3);
  CHECK(rt.path_handling == "v1");
  CHECK(rt.https_redirect_status_code == 308);
  CHECK_FALSE(rt.request_buffering);
  CHECK_FALSE(rt.response_buffering);
  CHECK(rt.tags == std::vector<std::string>{"t"});

  const Upstream& u = r.config.upstreams[0];
  CHECK(u.algorithm == "consistent-hashing");
  CHECK(u.hash_on == "header");
  CHECK(u.hash_on_header == "X-User");
  CHECK(u.hash_fallback == "cookie");
  CHECK(u.hash_on_cookie == "session");
  CHECK(u.hash_on_cookie_path == "/app");
  CHECK(u.slots == 10);
  CHECK(u.host_header == "api.internal:8080");
  CHECK(u.use_srv_name);
  const Healthchecks& h = u.healthchecks;
  CHECK(h.threshold == 50.5);
  CHECK(h.active.type == "https");
  CHECK(h.active.timeout == 2.5);
  CHECK(h.active.concurrency == 2147483647);  // Kong allows 2^31; clamped to int
  CHECK(h.active.http_path == "/health");
  CHECK(h.active.https_sni == "health.example.com");
  CHECK_FALSE(h.active.https_verify_certificate);
  CHECK(h.active.headers.at("x-probe") == std::vector<std::string>{"a", "b"});
  CHECK(h.active.healthy.interval == 5);
  CHECK(h.active.healthy.http_statuses == std::vector<int>{200});
  CHECK(h.active.healthy.successes == 2);
  CHECK(h.active.unhealthy.interval == 3);
  CHECK(h.active.unhealthy.tcp_failures == 1);
  CHECK(h.active.unhealthy.timeouts == 255);
  CHECK(h.active.unhealthy.http_failures == 4);
  CHECK(h.passive.type == "tcp");
  CHECK(h.passive.healthy.http_statuses == std::vector<int>{201});
  CHECK(h.passive.healthy.successes == 7);
  CHECK(h.passive.unhealthy.http_statuses == std::vector<int>{502});
  CHECK(h.passive.unhealthy.tcp_failures == 5);
  CHECK(h.passive.unhealthy.timeouts == 6);
  CHECK(h.passive.unhealthy.http_failures == 8);
  const Target& t = u.targets[0];
  CHECK(t.target == "[::1]:9000");
  CHECK(t.host == "::1");
  CHECK(t.port == 9000);
  CHECK(t.weight == 0);
  CHECK(t.tags == std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace sluice::config

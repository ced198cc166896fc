// SPDX-License-Identifier: Apache-2.0
// The declarative loader on valid input, continued: the url shorthand, references, 2.1 path
// migration, plugin config as JSON, YAML merge keys, JSON files, upstream coupling, LoadFile.
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "core/config/loader.h"
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

TEST_CASE("config: service url shorthand fills protocol, host, port and path", "[config]") {
  auto service = [](const std::string& url) {
    std::string text = "_format_version: \"3.0\"\nservices:\n  - url: \"" + url + "\"\n";
    LoadResult r = LoadString(text, "kong.yml");
    REQUIRE(Errors(r) == "");
    const Service& s = r.config.services[0];
    return s.protocol + " " + s.host + " " + std::to_string(s.port) + " " +
           s.path.value_or("<none>");
  };
  CHECK(service("http://backend:8080/api") == "http backend 8080 /api");
  CHECK(service("http://backend") == "http backend 80 <none>");
  CHECK(service("http://backend/") == "http backend 80 /");
  CHECK(service("https://secure.example.com") == "https secure.example.com 443 <none>");
  CHECK(service("https://secure.example.com:8443/v2/x") == "https secure.example.com 8443 /v2/x");
  CHECK(service("http://[::1]:9000/a") == "http ::1 9000 /a");
  CHECK(service("http://10.0.0.1") == "http 10.0.0.1 80 <none>");
  // No scheme: port 443 implies https, anything else http.
  CHECK(service("//backend:443/p") == "https backend 443 /p");
  CHECK(service("//backend:8080") == "http backend 8080 <none>");
  CHECK(service("//backend") == "http backend 80 <none>");
}

TEST_CASE("config: top-level entities reference their parents by name or id", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
services:
  - name: a
    host: a.internal
  - id: 6f5a1b5e-2a36-4b7f-9d3e-2d9b6c2e0a11
    name: b
    host: b.internal
routes:
  - name: by-name
    paths: [/a]
    service: a
  - name: by-id
    paths: [/b]
    service: 6f5a1b5e-2a36-4b7f-9d3e-2d9b6c2e0a11
  - name: by-object-id
    paths: [/c]
    service: { id: 6f5a1b5e-2a36-4b7f-9d3e-2d9b6c2e0a11 }
  - name: by-object-name
    paths: [/d]
    service: { name: a }
    plugins:
      - name: rate-limiting
        consumer: carol
  - name: unbound
    paths: [/e]
consumers:
  - username: carol
plugins:
  - name: request-transformer
    route: by-name
    consumer: carol
  - name: cors
    service: b
jwt_secrets:
  - consumer: carol
    key: carol-key
    secret: s
upstreams:
  - name: pool
targets:
  - target: 10.0.0.1:80
    upstream: pool
)yaml");
  REQUIRE(Errors(r) == "");
  const Config& c = r.config;
  CHECK(c.routes[0].service == 0);
  CHECK(c.routes[1].service == 1);
  CHECK(c.routes[2].service == 1);
  CHECK(c.routes[3].service == 0);
  CHECK(c.routes[4].service == -1);
  REQUIRE(c.plugins.size() == 3);
  CHECK(c.plugins[0].name == "rate-limiting");  // nested under routes[3], plus a consumer
  CHECK(c.plugins[0].route == 3);
  CHECK(c.plugins[0].consumer == 0);
  CHECK(c.plugins[1].route == 0);
  CHECK(c.plugins[1].consumer == 0);
  CHECK(c.plugins[1].service == -1);
  CHECK(c.plugins[2].service == 1);
  // A top-level plugin's cache key holds the references as written.
  CHECK(c.plugins[1].id == KongEntityId("plugins", "plugins:request-transformer:by-name::carol"));
  REQUIRE(c.consumers[0].jwt_secrets.size() == 1);
  CHECK(c.consumers[0].jwt_secrets[0].key == "carol-key");
  REQUIRE(c.upstreams[0].targets.size() == 1);
  CHECK(c.upstreams[0].targets[0].port == 80);
}

TEST_CASE("config: 2.1 files get Kong's route path migration", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "2.1"
services:
  - name: s
    host: h
    routes:
      - name: r
        paths: ["/users/\\d+", "/a/./b/../c", "/v1/%7Euser", "/users/{id}", "/api/users/:id", "/files/{proxy+}"]
routes:
  - name: top
    paths: ["/orders/(?<id>\\d+)$"]
)yaml");
  REQUIRE(Errors(r) == "");
  CHECK(r.config.format_version == "3.0");
  const auto& p = r.config.routes[0].paths;
  REQUIRE(p.size() == 6);
  CHECK(p[0].kind == RoutePath::Kind::kRegex);
  CHECK(p[0].raw == "~/users/\\d+");
  CHECK(p[0].pattern == "/users/\\d+");
  CHECK(p[1].kind == RoutePath::Kind::kPrefix);
  CHECK(p[1].raw == "/a/c");
  CHECK(p[2].raw == "/v1/~user");
  CHECK(p[3].kind == RoutePath::Kind::kTemplate);
  CHECK(p[3].pattern == "/users/{id}");
  CHECK(p[4].kind == RoutePath::Kind::kTemplate);
  CHECK(p[4].pattern == "/api/users/:id");
  CHECK(p[5].kind == RoutePath::Kind::kTemplate);
  CHECK(p[5].pattern == "/files/{proxy+}");
  const auto& top = r.config.routes[1].paths;
  REQUIRE(top.size() == 1);
  CHECK(top[0].kind == RoutePath::Kind::kRegex);
  CHECK(top[0].pattern == "/orders/(?P<id>\\d+)$");
}

TEST_CASE("config: plugin config keeps YAML scalar types and field marks", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
plugins:
  - name: custom
    enabled: false
    protocols: [http]
    instance_name: custom-1
    tags: [x]
    config:
      number: 100
      string: "100"
      single: '100'
      yes_bool: true
      quoted_bool: "true"
      nothing: null
      tilde: ~
      empty:
      float: 1.5
      hex: 0x1F
      text: hello world
      forced: !!str 42
      block: |
        two
        lines
      list: [1, "a", false]
      nested: { deep: [ { k: v } ] }
)yaml");
  REQUIRE(Errors(r) == "");
  const Plugin& p = r.config.plugins[0];
  CHECK_FALSE(p.enabled);
  CHECK(p.protocols == std::vector<std::string>{"http"});
  CHECK(p.instance_name == "custom-1");
  CHECK(p.id == KongEntityId("plugins", "custom-1"));
  CHECK(p.config_json ==
        R"({"number":100,"string":"100","single":"100","yes_bool":true,"quoted_bool":"true",)"
        R"("nothing":null,"tilde":null,"empty":null,"float":1.5,"hex":31,"text":"hello world",)"
        R"("forced":"42","block":"two\nlines\n","list":[1,"a",false],)"
        R"("nested":{"deep":[{"k":"v"}]}})");
  auto mark = [&](const std::string& path) {
    auto it = p.config_marks.find(path);
    REQUIRE(it != p.config_marks.end());
    return std::to_string(it->second.line) + ":" + std::to_string(it->second.col);
  };
  CHECK(mark("config") == "9:7");
  CHECK(mark("config.number") == "9:15");
  CHECK(mark("config.empty") == "16:7");  // an empty value points at its key
  CHECK(mark("config.list[1]") == "24:17");
  CHECK(mark("config.nested.deep[0].k") == "25:30");
  CHECK(p.mark.line == 3);
  CHECK(p.mark.col == 5);
}

TEST_CASE("config: YAML merge keys apply", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
x-defaults: &defaults
  host: shared.internal
  retries: 1
services:
  - <<: *defaults
    name: one
    retries: 2
)yaml");
  // `x-defaults` is not a Kong key, so the anchor lives in _ignore in real files; here it is
  // the one expected error.
  CHECK(Errors(r) == "kong.yml:2:1: x-defaults: unknown field\n");
  REQUIRE(r.config.services.size() == 1);
  CHECK(r.config.services[0].host == "shared.internal");
  CHECK(r.config.services[0].retries == 2);
}

TEST_CASE("config: JSON input loads like YAML", "[config]") {
  LoadResult r = LoadString(
      R"({"_format_version": "3.0", "services": [{"name": "s", "host": "h", "port": 8080,)"
      R"( "routes": [{"paths": ["/a"], "strip_path": false}], "plugins": [{"name": "rate-limiting",)"
      R"( "config": {"minute": 100, "hour": "100", "fault_tolerant": true, "x": null}}]}]})",
      "kong.json");
  REQUIRE(Errors(r) == "");
  CHECK(r.config.services[0].port == 8080);
  CHECK_FALSE(r.config.routes[0].strip_path);
  CHECK(r.config.plugins[0].config_json ==
        R"({"minute":100,"hour":"100","fault_tolerant":true,"x":null})");
  // JSON strings stay strings even where a number is expected.
  LoadResult bad = LoadString(
      R"({"_format_version": "3.0", "services": [{"host": "h", "port": "80"}]})", "kong.json");
  CHECK(Errors(bad) == "kong.json:1:63: services[0].port: expected an integer\n");
}

TEST_CASE("config: upstream algorithm follows hash_on as Kong couples them", "[config]") {
  LoadResult r = Load(R"yaml(
_format_version: "3.0"
upstreams:
  - name: a
    hash_on: ip
  - name: b
    algorithm: consistent-hashing
    hash_on: none
  - name: c
    algorithm: least-connections
    hash_on: ip
  - name: d
    algorithm: latency
  - name: e
    algorithm: consistent-hashing
)yaml");
  REQUIRE(Errors(r) == "");
  const auto& u = r.config.upstreams;
  CHECK(u[0].algorithm == "consistent-hashing");
  CHECK(u[0].hash_on == "ip");
  CHECK(u[1].algorithm == "round-robin");
  CHECK(u[2].algorithm == "least-connections");
  CHECK(u[2].hash_on == "none");
  CHECK(u[3].algorithm == "latency");
  CHECK(u[4].algorithm == "consistent-hashing");
}

TEST_CASE("config: LoadFile reads a file and names it in errors", "[config]") {
  char path[] = "/tmp/sluice-config-test-XXXXXX.yml";
  int fd = mkstemps(path, 4);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "_format_version: \"3.0\"\nservices:\n  - host: h\n    port: -1\n";
  }
  LoadResult r = LoadFile(path);
  CHECK(Errors(r) ==
        std::string(path) + ":4:11: services[0].port: value should be between 0 and 65535\n");
  std::remove(path);

  LoadResult missing = LoadFile("/nonexistent/kong.yml");
  CHECK(Errors(missing) == "/nonexistent/kong.yml: cannot read file: no such file or directory\n");
  CHECK(LoadFile("/tmp").errors.at(0).ToString() == "/tmp: cannot read file: is a directory");
}

}  // namespace
}  // namespace sluice::config

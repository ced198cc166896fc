// SPDX-License-Identifier: Apache-2.0
// The declarative loader on invalid input: every rejection, matched as the whole
// `file:line:col: message` list, in file order.
#include <string>

#include <catch2/catch.hpp>

#include "core/config/loader.h"

namespace sluice::config {
namespace {

// All errors of loading `text` (a leading newline is dropped), one per line.
std::string Errors(const char* text, const std::string& file = "kong.yml") {
  std::string s(text);
  if (!s.empty() && s[0] == '\n') {
    s.erase(0, 1);
  }
  LoadResult r = LoadString(s, file);
  std::string out;
  for (const Error& e : r.errors) {
    out += e.ToString() + "\n";
  }
  CHECK(r.ok() == out.empty());
  return out;
}

TEST_CASE("config: unknown field is an error with its position", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - name: a
    host: example.com
    routes:
      - paths: ["/x"]
        stip_path: true
)yaml") == "kong.yml:7:9: services[0].routes[0].stip_path: unknown field\n");
}

TEST_CASE("config: document-level failures", "[config]") {
  const std::string object = "failed parsing declarative configuration: expected an object\n";
  CHECK(Errors("") == "kong.yml:1:1: " + object);
  CHECK(Errors("# only a comment\n") == "kong.yml:1:1: " + object);
  CHECK(Errors("- a\n- b\n") == "kong.yml:1:1: " + object);
  CHECK(Errors("just text") == "kong.yml:1:1: " + object);
  CHECK(Errors("_format_version: \"3.0\"\nservices: [\n") ==
        "kong.yml:3:1: failed parsing declarative configuration: end of sequence flow not found\n");
  CHECK(Errors("_format_version: \"3.0\"\n---\na: 1\n") ==
        "kong.yml:3:1: failed parsing declarative configuration: expected a single document\n");
  CHECK(Errors("services: []\n") == "kong.yml:1:1: _format_version: required field missing\n");
  CHECK(Errors("_format_version: 3.0\n") == "kong.yml:1:18: _format_version: expected a string\n");
  CHECK(Errors("_format_version: \"2.0\"\n") ==
        "kong.yml:1:18: _format_version: expected one of: 1.1, 2.1, 3.0\n");
  CHECK(Errors("_format_version: \"3.0\"\n_transform: maybe\n_comment: [x]\n_ignore: x\n") ==
        "kong.yml:2:13: _transform: expected a boolean\n"
        "kong.yml:3:11: _comment: expected a string\n"
        "kong.yml:4:10: _ignore: expected an array\n");
  CHECK(Errors("_format_version: \"3.0\"\nfoo: 1\n_format_version: \"3.0\"\n") ==
        "kong.yml:2:1: foo: unknown field\n"
        "kong.yml:3:1: _format_version: duplicate key\n");
  CHECK(
      Errors("_format_version: \"1.1\"\n_transform: false\n_comment: c\n_ignore: [1, {a: b}]\n") ==
      "");
}

TEST_CASE("config: wrong types use Kong's wording", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - name: 1
    host: [a]
    port: "80"
    retries: 1.5
    enabled: "yes"
    tags: a
    routes: {}
    plugins:
      - just-a-string
    id: 123
routes:
  - paths: "/a"
    methods: GET
    headers: [a]
    hosts: [1]
upstreams:
  - name: u
    healthchecks: []
    slots: 1e3x
    use_srv_name: 1
    targets:
      - target: a:1
        weight: true
)yaml") ==
        "kong.yml:3:11: services[0].name: expected a string\n"
        "kong.yml:4:11: services[0].host: expected a string\n"
        "kong.yml:5:11: services[0].port: expected an integer\n"
        "kong.yml:6:14: services[0].retries: expected an integer\n"
        "kong.yml:7:14: services[0].enabled: expected a boolean\n"
        "kong.yml:8:11: services[0].tags: expected a set\n"
        "kong.yml:9:13: services[0].routes: expected an array\n"
        "kong.yml:11:9: services[0].plugins[0]: expected a record\n"
        "kong.yml:12:9: services[0].id: expected a string\n"
        "kong.yml:14:12: routes[0].paths: expected an array\n"
        "kong.yml:15:14: routes[0].methods: expected a set\n"
        "kong.yml:16:14: routes[0].headers: expected a map\n"
        "kong.yml:17:13: routes[0].hosts[0]: expected a string\n"
        "kong.yml:20:19: upstreams[0].healthchecks: expected a record\n"
        "kong.yml:21:12: upstreams[0].slots: expected an integer\n"
        "kong.yml:22:19: upstreams[0].use_srv_name: expected a boolean\n"
        "kong.yml:25:17: upstreams[0].targets[0].weight: expected an integer\n");
}

TEST_CASE("config: service values are range- and syntax-checked", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - name: b
    host: example.com
    port: 70000
    connect_timeout: 0
    retries: -1
    protocol: grpc
  - name: bad name
    host: ex_ample..com
    path: api
    read_timeout: 2147483647
  - host: example.com:80
    path: "/a b"
    write_timeout: .inf
  - host: h
    path: /a%zz
    id: not-a-uuid
    tags: ["a,b"]
  - name: c
    protocol: ftp
    path: /a//b
)yaml") ==
        "kong.yml:5:11: services[0].port: value should be between 0 and 65535\n"
        "kong.yml:6:22: services[0].connect_timeout: value should be between 1 and 2147483646\n"
        "kong.yml:7:14: services[0].retries: value should be between 0 and 32767\n"
        "kong.yml:8:15: services[0].protocol: protocol 'grpc' is not supported yet (only http "
        "and https)\n"
        "kong.yml:9:11: services[1].name: invalid value 'bad name': the only accepted ascii "
        "characters are alphanumerics or ., -, _, and ~\n"
        "kong.yml:10:11: services[1].host: invalid value: ex_ample..com\n"
        "kong.yml:11:11: services[1].path: should start with: /\n"
        "kong.yml:12:19: services[1].read_timeout: value should be between 1 and 2147483646\n"
        "kong.yml:13:11: services[2].host: must not have a port\n"
        "kong.yml:14:11: services[2].path: invalid path: '/a b' (characters outside of the "
        "reserved list of RFC 3986 found)\n"
        "kong.yml:15:20: services[2].write_timeout: expected an integer\n"
        "kong.yml:17:11: services[3].path: invalid url-encoded value: '%zz'\n"
        "kong.yml:18:9: services[3].id: expected a valid UUID\n"
        "kong.yml:19:12: services[3].tags[0]: invalid tag 'a,b': expected printable ascii "
        "(except `,` and `/`) or valid utf-8 sequences\n"
        "kong.yml:20:5: services[4].host: required field missing\n"
        "kong.yml:21:15: services[4].protocol: expected one of: grpc, grpcs, http, https, tcp, "
        "tls, tls_passthrough, udp\n"
        "kong.yml:22:11: services[4].path: must not have empty segments\n");
}

TEST_CASE("config: service url shorthand errors", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - url: backend:8080
  - url: http://backend/api?x=1
  - url: http://user:pw@backend
  - url: http://:80/
  - url: http://backend:99999
  - url: ftp://backend
  - url: http://backend//x
  - url: http://bad_host!/x
  - url: http://backend
    port: 81
    host: other
)yaml") ==
        "kong.yml:3:10: services[0].url: missing scheme in url\n"
        "kong.yml:4:10: services[1].url: url must not have a query string or fragment\n"
        "kong.yml:5:10: services[2].url: url must not carry credentials\n"
        "kong.yml:6:10: services[3].url: missing host in url\n"
        "kong.yml:7:10: services[4].url: invalid port in url: '99999'\n"
        "kong.yml:8:10: services[5].url: invalid url 'ftp://backend': expected one of: grpc, "
        "grpcs, http, https, tcp, tls, tls_passthrough, udp\n"
        "kong.yml:9:10: services[6].url: invalid url 'http://backend//x': must not have empty "
        "segments\n"
        "kong.yml:10:10: services[7].url: invalid url 'http://bad_host!/x': invalid value: "
        "bad_host!\n"
        "kong.yml:12:11: services[8].port: cannot be set together with 'url'\n"
        "kong.yml:13:11: services[8].host: cannot be set together with 'url'\n");
}

TEST_CASE("config: route fields are validated as Kong does", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
routes:
  - paths: ["/a/../b", "~/(x", "nope", "/a//b", "/%zz"]
    methods: [get, GET]
    hosts: ["*.a.*", "a.*.com", "ex ample.com", "a.com:99999", "example.*:80"]
    headers: { Host: [a], "bad header": [b], x-ok: "notarray", x-re: ["~*(bad"] }
    https_redirect_status_code: 300
    path_handling: v2
    regex_priority: 1e99
    protocols: [http]
    sources: [{ip: 1.2.3.4}]
    destinations: []
  - name: r
    paths: [/a]
    protocols: []
  - name: r2
    paths: [/b]
    protocols: [tcp, bogus]
    snis: [example.com]
  - name: https-default
  - name: http-only
    protocols: [http]
    methods: []
)yaml") ==
        "kong.yml:3:13: routes[0].paths[0]: non-normalized path, consider use '/b' instead\n"
        "kong.yml:3:24: routes[0].paths[1]: invalid regex: '/(x' (RE2 returned: missing ): "
        "/(x)\n"
        "kong.yml:3:32: routes[0].paths[2]: should start with: / (fixed path) or ~/ (regex "
        "path)\n"
        "kong.yml:3:40: routes[0].paths[3]: must not have empty segments\n"
        "kong.yml:3:49: routes[0].paths[4]: invalid url-encoded value: '%zz'\n"
        "kong.yml:4:15: routes[0].methods[0]: invalid value: get\n"
        "kong.yml:5:13: routes[0].hosts[0]: invalid wildcard: must have at most one wildcard\n"
        "kong.yml:5:22: routes[0].hosts[1]: invalid wildcard: must be placed at leftmost or "
        "rightmost label\n"
        "kong.yml:5:33: routes[0].hosts[2]: invalid hostname: ex ample.com\n"
        "kong.yml:5:49: routes[0].hosts[3]: invalid port number\n"
        "kong.yml:5:64: routes[0].hosts[4]: invalid wildcard: must be placed at leftmost or "
        "rightmost label\n"
        "kong.yml:6:16: routes[0].headers.Host: cannot contain 'host' header, which must be "
        "specified in the 'hosts' attribute\n"
        "kong.yml:6:27: routes[0].headers.bad header: bad header name 'bad header', allowed "
        "characters are A-Z, a-z, 0-9, '_', and '-'\n"
        "kong.yml:6:52: routes[0].headers.x-ok: expected an array\n"
        "kong.yml:6:71: routes[0].headers.x-re[0]: invalid regex: '(bad' (RE2 returned: "
        "missing ): (bad)\n"
        "kong.yml:7:33: routes[0].https_redirect_status_code: expected one of: 426, 301, 302, "
        "307, 308\n"
        "kong.yml:8:20: routes[0].path_handling: expected one of: v0, v1\n"
        "kong.yml:9:21: routes[0].regex_priority: value should be between -2147483648 and "
        "2147483647\n"
        "kong.yml:11:14: routes[0].sources: cannot set 'sources' when 'protocols' is 'http' or "
        "'https'\n"
        "kong.yml:15:16: routes[1].protocols: length must be at least 1\n"
        "kong.yml:18:17: routes[2].protocols[0]: protocol 'tcp' is not supported yet (only "
        "http and https)\n"
        "kong.yml:18:22: routes[2].protocols[1]: expected one of: grpc, grpcs, http, https, "
        "tcp, tls, tls_passthrough, udp\n"
        "kong.yml:19:11: routes[2].snis: not supported yet\n"
        "kong.yml:20:5: routes[3]: must set one of 'methods', 'hosts', 'headers', 'paths', "
        "'snis' when 'protocols' is 'https'\n"
        "kong.yml:21:5: routes[4]: must set one of 'methods', 'hosts', 'headers', 'paths' when "
        "'protocols' is 'http'\n");
}

TEST_CASE("config: references and uniqueness use Kong's wording", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - name: a
    host: h
  - name: a
    host: h
routes:
  - name: r1
    paths: [/a]
    service: foo
  - name: r1
    paths: [/b]
    service: { id: 0dc6f45b-8f8d-40d2-a504-473544ee190b }
  - name: r3
    paths: [/c]
    service: { name: a, extra: 1 }
consumers:
  - username: alice
  - username: alice
  - custom_id: c
  - custom_id: c
plugins:
  - name: rate-limiting
    consumer: bob
    route: nope
  - name: prometheus
  - name: prometheus
  - name: cors
    service: a
  - name: cors
    service: 72734e2a-702d-5711-b9ef-697178108ad8
  - name: x
    instance_name: i1
  - name: y
    instance_name: i1
upstreams:
  - name: up
    targets:
      - target: 10.0.0.1:80
      - target: 10.0.0.1:80
  - name: up
targets:
  - target: a:1
    upstream: nope
  - target: b:2
)yaml") ==
        "kong.yml:5:11: services[1].name: uniqueness violation: 'services' entity with name "
        "set to 'a' already declared\n"
        "kong.yml:10:14: routes[0].service: invalid reference 'service: foo' (no such entry in "
        "'services')\n"
        "kong.yml:11:11: routes[1].name: uniqueness violation: 'routes' entity with name set "
        "to 'r1' already declared\n"
        "kong.yml:13:14: routes[1].service: invalid reference 'service: "
        "{\"id\":\"0dc6f45b-8f8d-40d2-a504-473544ee190b\"}' (no such entry in 'services')\n"
        "kong.yml:16:25: routes[2].service.extra: unknown field\n"
        "kong.yml:19:15: consumers[1].username: uniqueness violation: 'consumers' entity with "
        "username set to 'alice' already declared\n"
        "kong.yml:21:16: consumers[3].custom_id: uniqueness violation: 'consumers' entity with "
        "custom_id set to 'c' already declared\n"
        "kong.yml:24:15: plugins[0].consumer: invalid reference 'consumer: bob' (no such entry "
        "in 'consumers')\n"
        "kong.yml:25:12: plugins[0].route: invalid reference 'route: nope' (no such entry in "
        "'routes')\n"
        "kong.yml:27:5: plugins[2]: uniqueness violation: 'plugins' entity with primary key set "
        "to '86e6f637-64e2-5672-920c-32e17e76e0fe' already declared\n"
        "kong.yml:30:11: plugins[4]: uniqueness violation: 'plugins' entity with name set to "
        "'cors' already declared for the same route, service and consumer\n"
        "kong.yml:35:20: plugins[6].instance_name: uniqueness violation: 'plugins' entity with "
        "instance_name set to 'i1' already declared\n"
        "kong.yml:40:17: upstreams[0].targets[1]: uniqueness violation: 'targets' entity with "
        "primary key set to '3050f055-8d6c-524c-a04c-365a0390bc2c' already declared\n"
        "kong.yml:41:11: upstreams[1].name: uniqueness violation: 'upstreams' entity with "
        "name set to 'up' already declared\n"
        "kong.yml:44:15: targets[0].upstream: invalid reference 'upstream: nope' (no such "
        "entry in 'upstreams')\n"
        "kong.yml:45:5: targets[1].upstream: required field missing\n");
}

TEST_CASE("config: nested records may not name their parent", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
services:
  - name: parent
    host: h
    routes:
      - paths: [/x]
        service: parent
        plugins:
          - name: p1
            route: x
    plugins:
      - name: p2
        service: parent
consumers:
  - username: u
    jwt_secrets:
      - consumer: u
    plugins:
      - name: p3
        consumer: u
upstreams:
  - name: up
    targets:
      - target: a:1
        upstream: up
)yaml") ==
        "kong.yml:7:18: services[0].routes[0].service: value must be null\n"
        "kong.yml:10:20: services[0].routes[0].plugins[0].route: value must be null\n"
        "kong.yml:13:18: services[0].plugins[0].service: value must be null\n"
        "kong.yml:17:19: consumers[0].jwt_secrets[0].consumer: value must be null\n"
        "kong.yml:20:19: consumers[0].plugins[0].consumer: value must be null\n"
        "kong.yml:25:19: upstreams[0].targets[0].upstream: value must be null\n");
}

TEST_CASE("config: plugin, consumer and jwt_secret rules", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
consumers:
  - username: alice
    plugins:
      - name: jwt
      - name: request-transformer
        enabled: maybe
        protocols: [http, ftp]
    jwt_secrets:
      - key: k1
        algorithm: RS256
      - key: k1
        algorithm: ES256
        rsa_public_key: "garbage"
      - algorithm: HS1
      - algorithm: EdDSA
        rsa_public_key: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
  - custom_id: ""
  - {}
jwt_secrets:
  - key: orphan
plugins:
  - config: {}
  - name: cors
    consumer: alice
  - name: rate-limiting
    config: [1]
  - name: x
    instance_name: "not ok"
    config: { a: .inf, b: !!binary aGVsbG8=, c: !!int abc }
)yaml") ==
        "kong.yml:5:15: consumers[0].plugins[0]: plugin 'jwt' cannot be scoped to a consumer\n"
        "kong.yml:7:18: consumers[0].plugins[1].enabled: expected a boolean\n"
        "kong.yml:8:27: consumers[0].plugins[1].protocols[1]: expected one of: grpc, grpcs, "
        "http, https, tcp, tls, tls_passthrough, udp\n"
        "kong.yml:10:9: consumers[0].jwt_secrets[0].rsa_public_key: required field missing\n"
        "kong.yml:12:14: consumers[0].jwt_secrets[1].key: uniqueness violation: 'jwt_secrets' "
        "entity with key set to 'k1' already declared\n"
        "kong.yml:14:25: consumers[0].jwt_secrets[1].rsa_public_key: invalid key\n"
        "kong.yml:15:20: consumers[0].jwt_secrets[2].algorithm: expected one of: HS256, HS384, "
        "HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA\n"
        "kong.yml:18:5: consumers[1]: at least one of these fields must be non-empty: "
        "'custom_id', 'username'\n"
        "kong.yml:19:5: consumers[2]: at least one of these fields must be non-empty: "
        "'custom_id', 'username'\n"
        "kong.yml:21:5: jwt_secrets[0].consumer: required field missing\n"
        "kong.yml:23:5: plugins[0].name: required field missing\n"
        "kong.yml:25:15: plugins[1].consumer: plugin 'cors' cannot be scoped to a consumer\n"
        "kong.yml:27:13: plugins[2].config: expected a record\n"
        "kong.yml:29:20: plugins[3].instance_name: invalid value 'not ok': the only accepted "
        "ascii characters are alphanumerics or ., -, _, and ~\n"
        "kong.yml:30:18: plugins[3].config.a: expected a finite number\n"
        "kong.yml:30:27: plugins[3].config.b: unsupported tag 'tag:yaml.org,2002:binary'\n"
        "kong.yml:30:49: plugins[3].config.c: invalid value for tag 'tag:yaml.org,2002:int'\n");
}

TEST_CASE("config: upstream, healthcheck and target rules", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
upstreams:
  - name: 10.0.0.1
  - name: up
    hash_on: header
    hash_fallback: header
    hash_fallback_header: X-A
    healthchecks:
      threshold: 101
      active:
        concurrency: 0
        healthy: { interval: 1.5, http_statuses: [99, 200] }
        unhealthy: { successes: 1 }
        headers: { "x y": [a] }
      passive:
        healthy: { interval: 1 }
      bogus: 1
    targets:
      - target: "bad host:80"
      - target: "[::1]:8080"
        weight: 70000
  - name: up2
    hash_on: none
    hash_fallback: ip
  - name: up3
    hash_on: ip
    hash_fallback: ip
  - name: up4
    hash_on: header
    hash_on_header: X-A
    hash_fallback: header
    hash_fallback_header: X-A
  - name: up5:80
    hash_on: cookie
    hash_on_query_arg: ""
  - name: "a..b"
    slots: 5
    host_header: "a b"
    client_certificate: { id: 0dc6f45b-8f8d-40d2-a504-473544ee190b }
  - {}
)yaml") ==
        "kong.yml:3:11: upstreams[0].name: invalid name; no ip addresses allowed\n"
        "kong.yml:4:5: upstreams[1].hash_on_header: required field missing\n"
        "kong.yml:9:18: upstreams[1].healthchecks.threshold: value should be between 0 and "
        "100\n"
        "kong.yml:11:22: upstreams[1].healthchecks.active.concurrency: value should be between "
        "1 and 2147483648\n"
        "kong.yml:12:30: upstreams[1].healthchecks.active.healthy.interval: fractional seconds "
        "are not supported yet\n"
        "kong.yml:12:51: upstreams[1].healthchecks.active.healthy.http_statuses[0]: value "
        "should be between 100 and 999\n"
        "kong.yml:13:22: upstreams[1].healthchecks.active.unhealthy.successes: unknown field\n"
        "kong.yml:14:20: upstreams[1].healthchecks.active.headers.x y: bad header name 'x y', "
        "allowed characters are A-Z, a-z, 0-9, '_', and '-'\n"
        "kong.yml:16:20: upstreams[1].healthchecks.passive.healthy.interval: unknown field\n"
        "kong.yml:17:7: upstreams[1].healthchecks.bogus: unknown field\n"
        "kong.yml:19:17: upstreams[1].targets[0].target: invalid target; not a valid hostname "
        "or ip address\n"
        "kong.yml:21:17: upstreams[1].targets[1].weight: value should be between 0 and 65535\n"
        "kong.yml:24:20: upstreams[2].hash_fallback: expected one of: none\n"
        "kong.yml:27:20: upstreams[3].hash_fallback: expected one of: none, consumer, header, "
        "cookie, path, query_arg, uri_capture\n"
        "kong.yml:32:27: upstreams[4].hash_fallback_header: values of these fields must be "
        "distinct: 'hash_on_header', 'hash_fallback_header'\n"
        "kong.yml:33:5: upstreams[5].hash_on_cookie: required field missing\n"
        "kong.yml:33:11: upstreams[5].name: invalid name; no port allowed\n"
        "kong.yml:35:24: upstreams[5].hash_on_query_arg: length must be at least 1\n"
        "kong.yml:36:11: upstreams[6].name: invalid name; must be a valid hostname\n"
        "kong.yml:37:12: upstreams[6].slots: value should be between 10 and 65536\n"
        "kong.yml:38:18: upstreams[6].host_header: invalid hostname: a b\n"
        "kong.yml:39:25: upstreams[6].client_certificate: not supported yet\n"
        "kong.yml:40:5: upstreams[7].name: required field missing\n");
}

TEST_CASE("config: entities sluice cannot honour yet are refused, not ignored", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
certificates: [{cert: x}]
workspaces: []
vaults: []
services:
  - host: h
    tls_verify: true
    tls_verify_depth: 1
    ca_certificates: []
    client_certificate: { id: 0dc6f45b-8f8d-40d2-a504-473544ee190b }
)yaml") ==
        "kong.yml:2:15: certificates: not supported yet\n"
        "kong.yml:7:17: services[0].tls_verify: not supported yet\n"
        "kong.yml:8:23: services[0].tls_verify_depth: not supported yet\n"
        "kong.yml:9:22: services[0].ca_certificates: not supported yet\n"
        "kong.yml:10:25: services[0].client_certificate: not supported yet\n");
}

TEST_CASE("config: errors from every phase come out in file order", "[config]") {
  // The reference error is found after parsing, the type error while parsing; both are
  // reported, sorted by position.
  CHECK(Errors(R"yaml(
_format_version: "3.0"
routes:
  - paths: [/a]
    service: missing
services:
  - host: h
    port: x
)yaml",
               "conf/kong.yaml") ==
        "conf/kong.yaml:4:14: routes[0].service: invalid reference 'service: missing' (no such "
        "entry in 'services')\n"
        "conf/kong.yaml:7:11: services[0].port: expected an integer\n");
}

TEST_CASE("config: 2.1 paths are validated after migration", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "2.1"
routes:
  - paths: ["v1", "/x/(unclosed", "/files/{a+}/b"]
)yaml") ==
        "kong.yml:3:13: routes[0].paths[0]: should start with: / (fixed path) or ~/ (regex "
        "path)\n"
        "kong.yml:3:19: routes[0].paths[1]: invalid regex: '/x/(unclosed' (RE2 returned: "
        "missing ): /x/(unclosed)\n"
        "kong.yml:3:35: routes[0].paths[2]: greedy parameter '{a+}' must be the last segment\n");
}

TEST_CASE("config: pathological documents fail cleanly", "[config]") {
  std::string deep =
      "_format_version: \"3.0\"\nplugins:\n  - name: x\n    config: {a: " + std::string(5000, '[') +
      std::string(5000, ']') + "}\n";
  LoadResult r = LoadString(deep, "kong.yml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].message == "failed parsing declarative configuration: nesting too deep");

  // Aliases can expand a small file exponentially; plugin config conversion has a budget.
  std::string bomb = "_format_version: \"3.0\"\n_ignore:\n  - &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 6; ++i) {
    bomb += "  - &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    }
    bomb += "]\n";
  }
  bomb += "plugins:\n  - name: bomb\n    config: {v: *a5}\n";
  LoadResult b = LoadString(bomb, "kong.yml");
  REQUIRE(b.errors.size() == 1);
  CHECK(b.errors[0].message == "plugins[0].config.v[0][8][9][9][9][7]: too many values");
}

TEST_CASE("config: circuit_breaker and retry_budget on an upstream", "[config]") {
  CHECK(Errors(R"yaml(
_format_version: "3.0"
upstreams:
  - name: up
    circuit_breaker:
      enabled: yes please
      failure_threshold: 0
      open_timeout: 0
      half_open_requests: 2
      bogus: 1
    retry_budget:
      percent: 120
      min_retries: -1
  - name: up2
    circuit_breaker: []
)yaml") ==
        "kong.yml:5:16: upstreams[0].circuit_breaker.enabled: expected a boolean\n"
        "kong.yml:6:26: upstreams[0].circuit_breaker.failure_threshold: value should be between "
        "1 and 1000\n"
        "kong.yml:7:21: upstreams[0].circuit_breaker.open_timeout: value should be between "
        "0.001 and 86400\n"
        "kong.yml:9:7: upstreams[0].circuit_breaker.bogus: unknown field\n"
        "kong.yml:11:16: upstreams[0].retry_budget.percent: value should be between 0 and 100\n"
        "kong.yml:12:20: upstreams[0].retry_budget.min_retries: value should be between 0 and "
        "100000\n"
        "kong.yml:14:22: upstreams[1].circuit_breaker: expected a record\n");
}

}  // namespace
}  // namespace sluice::config

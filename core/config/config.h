// SPDX-License-Identifier: Apache-2.0
// The typed, validated form of a Kong-style declarative file. Built once by the loader, then
// never mutated: workers share it read-only (see Snapshot in core/server).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::config {

// A position in the source file, 1-based; line 0 means "unknown".
struct Mark {
  int line = 0;
  int col = 0;
};

// One configuration error, printed as `file:line:col: message`.
struct Error {
  std::string file;
  Mark mark;
  std::string message;

  std::string ToString() const;  // "file:line:col: message"
};

struct Service {
  std::string id;  // given, or Kong's deterministic UUIDv5 of the name
  std::string name;
  std::string protocol = "http";  // http | https (others parse but are rejected for now)
  std::string host;
  int port = 80;
  std::optional<std::string> path;  // starts with '/'; nullopt = none ("/" for joining)
  int retries = 5;
  int connect_timeout_ms = 60000;
  int write_timeout_ms = 60000;
  int read_timeout_ms = 60000;
  bool enabled = true;
  std::vector<std::string> tags;
  Mark mark;
};

// One entry of a route's `paths`.
struct RoutePath {
  enum class Kind { kPrefix, kRegex, kTemplate };
  Kind kind = Kind::kPrefix;
  std::string raw;      // as written in the file (after 2.1 -> 3.0 migration)
  std::string pattern;  // prefix: the normalised prefix; regex: RE2 source without '~'
                        // template: the template, e.g. "/users/{id}" or "/api/users/:id"
  Mark mark;
};

// One entry of a route's `headers`: all values of one header name.
struct HeaderMatch {
  std::string name;                 // lower-cased
  std::vector<std::string> values;  // plain values lower-cased; "~*regex" kept as written
};

struct Route {
  std::string id;
  std::string name;
  std::vector<std::string> protocols = {"http", "https"};
  std::vector<std::string> methods;  // upper-case
  std::vector<std::string> hosts;    // may hold one leading or trailing '*' label, and ":port"
  std::vector<RoutePath> paths;
  std::vector<HeaderMatch> headers;
  bool strip_path = true;
  bool preserve_host = false;
  int regex_priority = 0;
  std::string path_handling = "v0";  // v0 | v1
  int https_redirect_status_code = 426;
  bool request_buffering = true;
  bool response_buffering = true;
  int service = -1;  // index into Config::services; -1 = no service
  std::vector<std::string> tags;
  Mark mark;
};

// A plugin instance; its `config:` subtree is kept as JSON text for the filter to validate.
struct Plugin {
  std::string id;
  std::string name;
  std::string instance_name;
  std::string config_json = "{}";
  // Where each field under `config:` sits in the file, keyed by its path ("config.minute",
  // "config.add.headers[0]"), so a filter's error can be reported as file:line:col.
  std::map<std::string, Mark> config_marks;
  int service = -1;   // scope: index into Config::services, -1 = any
  int route = -1;     // index into Config::routes, -1 = any
  int consumer = -1;  // index into Config::consumers, -1 = any
  bool enabled = true;
  std::vector<std::string> protocols = {"grpc", "grpcs", "http", "https"};
  std::vector<std::string> tags;
  Mark mark;  // the plugin entry itself
};

struct JwtSecret {
  std::string id;
  std::string key;
  std::string secret;
  std::string rsa_public_key;
  std::string algorithm = "HS256";
  std::vector<std::string> tags;
  Mark mark;
};

struct Consumer {
  std::string id;
  std::string username;
  std::string custom_id;
  std::vector<std::string> tags;
  std::vector<JwtSecret> jwt_secrets;
  Mark mark;
};

struct Target {
  std::string target;  // "host:port" as written
  std::string host;
  int port = 8000;
  int weight = 100;
  std::vector<std::string> tags;
  Mark mark;
};

// Kong's upstream healthchecks record, with Kong's defaults (reference/kong.md §1.7).
struct HealthcheckCounters {
  int interval = 0;  // seconds; 0 = off
  std::vector<int> http_statuses;
  int successes = 0;
  int tcp_failures = 0;
  int timeouts = 0;
  int http_failures = 0;
};

struct Healthchecks {
  double threshold = 0;

  struct Active {
    std::string type = "http";
    double timeout = 1;
    int concurrency = 10;
    std::string http_path = "/";
    std::string https_sni;
    bool https_verify_certificate = true;
    std::map<std::string, std::vector<std::string>> headers;
    HealthcheckCounters healthy{0, {200, 302}, 0, 0, 0, 0};
    HealthcheckCounters unhealthy{0, {429, 404, 500, 501, 502, 503, 504, 505}, 0, 0, 0, 0};
  } active;

  struct Passive {
    std::string type = "http";
    HealthcheckCounters healthy{
        0,
        {200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308},
        0,
        0,
        0,
        0};
    HealthcheckCounters unhealthy{0, {429, 500, 503}, 0, 0, 0, 0};
  } passive;
};

// sluice's additions to an upstream (Kong has neither): a circuit breaker per target and a
// retry budget per upstream (core/balancer/breaker.h, retry_budget.h).
struct CircuitBreaker {
  bool enabled = false;
  int failure_threshold = 5;  // consecutive failures that open it
  double open_timeout = 30;   // seconds open before trial requests
  int half_open_requests = 1;
};

struct RetryBudget {
  bool enabled = true;
  double percent = 20;  // retries per 100 requests
  int min_retries = 10;
};

struct Upstream {
  std::string id;
  std::string name;
  std::string algorithm = "round-robin";
  std::string hash_on = "none";
  std::string hash_fallback = "none";
  std::string hash_on_header, hash_fallback_header;
  std::string hash_on_cookie, hash_on_cookie_path = "/";
  std::string hash_on_query_arg, hash_fallback_query_arg;
  std::string hash_on_uri_capture, hash_fallback_uri_capture;
  int slots = 10000;
  std::string host_header;
  bool use_srv_name = false;
  Healthchecks healthchecks;
  CircuitBreaker circuit_breaker;
  RetryBudget retry_budget;
  std::vector<Target> targets;
  std::vector<std::string> tags;
  Mark mark;
};

// The whole declarative file. Indexes (Route::service, Plugin::route, ...) refer into these
// vectors, so references are resolved once at load time.
struct Config {
  std::string format_version;  // "3.0" after migration
  std::string source_file;
  std::vector<Service> services;
  std::vector<Route> routes;
  std::vector<Plugin> plugins;
  std::vector<Consumer> consumers;
  std::vector<Upstream> upstreams;
};

}  // namespace sluice::config

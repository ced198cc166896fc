// SPDX-License-Identifier: Apache-2.0
// Test helpers: build config::Config routes in C++ (no loader) and query a compiled Router by
// route name.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include <catch2/catch.hpp>

#include "core/config/config.h"
#include "core/http/header_map.h"
#include "core/router/router.h"

namespace sluice::router::testing {

// Classifies a path as the loader would: "~..." regex (with `(?<n>` rewritten to `(?P<n>`),
// a '{' or a "/:" segment makes a template, anything else is a prefix.
inline config::RoutePath MakePath(const std::string& raw) {
  config::RoutePath p;
  p.raw = raw;
  if (absl::StartsWith(raw, "~")) {
    p.kind = config::RoutePath::Kind::kRegex;
    p.pattern = absl::StrReplaceAll(absl::string_view(raw).substr(1), {{"(?<", "(?P<"}});
  } else if (raw.find('{') != std::string::npos || raw.find("/:") != std::string::npos) {
    p.kind = config::RoutePath::Kind::kTemplate;
    p.pattern = raw;
  } else {
    p.kind = config::RoutePath::Kind::kPrefix;
    p.pattern = raw;
  }
  return p;
}

// A fluent config::Route builder; the route points at service 0 unless told otherwise.
class RouteBuilder {
 public:
  explicit RouteBuilder(std::string name) {
    route_.name = std::move(name);
    route_.service = 0;
  }

  RouteBuilder& Paths(std::initializer_list<const char*> paths) {
    for (const char* p : paths) {
      route_.paths.push_back(MakePath(p));
    }
    return *this;
  }

  RouteBuilder& Hosts(std::initializer_list<const char*> hosts) {
    for (const char* h : hosts) {
      route_.hosts.emplace_back(h);
    }
    return *this;
  }

  RouteBuilder& Methods(std::initializer_list<const char*> methods) {
    for (const char* m : methods) {
      route_.methods.emplace_back(m);
    }
    return *this;
  }

  RouteBuilder& Header(const char* name, std::initializer_list<const char*> values) {
    config::HeaderMatch h;
    h.name = name;
    for (const char* v : values) {
      h.values.emplace_back(v);
    }
    route_.headers.push_back(std::move(h));
    return *this;
  }

  RouteBuilder& RegexPriority(int p) {
    route_.regex_priority = p;
    return *this;
  }

  RouteBuilder& Service(int s) {
    route_.service = s;
    return *this;
  }

  RouteBuilder& Protocols(std::initializer_list<const char*> protocols) {
    route_.protocols.clear();
    for (const char* p : protocols) {
      route_.protocols.emplace_back(p);
    }
    return *this;
  }

  config::Route Build() const { return route_; }

 private:
  config::Route route_;
};

// A request as the router sees it; strings are owned here so views stay valid.
struct Request {
  std::string method = "GET";
  std::string host = "example.com";
  std::string path = "/";
  int listener_port = 8000;
  http::HeaderMap headers;

  Request& Header(const char* name, const char* value) {
    headers.Add(name, value);
    return *this;
  }

  RequestView View() const {
    RequestView v;
    v.method = method;
    v.host = host;
    v.path = path;
    v.headers = &headers;
    v.listener_port = listener_port;
    return v;
  }
};

// A config with one enabled service (index 0), its routes, and the compiled router.
class Table {
 public:
  Table() {
    config::Service s;
    s.name = "svc";
    s.host = "upstream";
    config_.services.push_back(s);
  }

  Table& Add(const RouteBuilder& r) {
    config_.routes.push_back(r.Build());
    return *this;
  }

  config::Config& config() { return config_; }

  // Compiles the routes added so far; fails the test if compilation fails.
  const Router& Compile() {
    auto r = Router::Compile(config_);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    router_ = *std::move(r);
    return *router_;
  }

  // The name of the matching route, or "" when none matches. Fills *out when given.
  std::string Match(const Request& req, MatchResult* out = nullptr) const {
    MatchResult local;
    MatchResult* res = out ? out : &local;
    if (!router_->Match(req.View(), res)) {
      return "";
    }
    REQUIRE(res->route >= 0);
    REQUIRE(static_cast<size_t>(res->route) < config_.routes.size());
    CHECK(res->service == config_.routes[static_cast<size_t>(res->route)].service);
    return config_.routes[static_cast<size_t>(res->route)].name;
  }

  // Shorthand: GET `path` with Host `host`.
  std::string Match(const std::string& host, const std::string& path) const {
    Request req;
    req.host = host;
    req.path = path;
    return Match(req);
  }

 private:
  config::Config config_;
  std::unique_ptr<Router> router_;
};

}  // namespace sluice::router::testing

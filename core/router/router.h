// SPDX-License-Identifier: Apache-2.0
// Matches a request to a route with Kong's traditional_compatible priorities, and builds the
// upstream path (strip_path / path_handling). Compiled once per config; Match() is read-only and
// safe to call from every worker at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/config/config.h"
#include "core/http/header_map.h"

namespace sluice::router {

// What the router looks at. All views are borrowed from the caller for the call.
struct RequestView {
  absl::string_view method;  // e.g. "GET"
  absl::string_view host;    // Host header value, possibly with ":port"
  absl::string_view path;    // normalised (see NormalizePath), no query string
  const http::HeaderMap* headers = nullptr;
  int listener_port = 0;  // port the request arrived on (hosts with ":port")
};

// A named or numbered capture of a regex or template path (uri_captures in Kong).
struct Capture {
  absl::string_view name;   // empty for a numbered capture
  absl::string_view value;  // view into RequestView::path
};

struct MatchResult {
  int route = -1;    // index into Config::routes
  int service = -1;  // Config::routes[route].service
  // The part of the path that the matching path entry consumed: the prefix for prefix paths,
  // the whole regex match for regex paths, the matched segments for templates. A view into
  // RequestView::path. Empty when the route has no paths.
  absl::string_view matched_prefix;
  absl::InlinedVector<Capture, 4> captures;
};

// Immutable compiled routing table. Build with Compile(); then Match() from any thread.
class Router {
 public:
  // Compiles every route of `config` whose service (if any) is enabled. Fails only on input the
  // loader should already have rejected (e.g. a regex RE2 cannot compile).
  static absl::StatusOr<std::unique_ptr<Router>> Compile(const config::Config& config);

  // Finds the highest-priority route matching `req`. Returns false when none matches. Does not
  // allocate in steady state (captures live inline in `out`).
  bool Match(const RequestView& req, MatchResult* out) const;

  ~Router();

 private:
  Router();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Builds the path sent upstream from the service path, the route's strip_path/path_handling
// and the match (reference/kong.md §2.5). `request_path` is the normalised path; the query
// string is not part of it (the caller appends it). Writes into `out` (cleared first).
void BuildUpstreamPath(absl::string_view service_path, bool strip_path,
                       absl::string_view path_handling, absl::string_view request_path,
                       absl::string_view matched_prefix, std::string* out);

}  // namespace sluice::router

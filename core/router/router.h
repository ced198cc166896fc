// SPDX-License-Identifier: Apache-2.0
// Matches a request to a route with Kong's traditional_compatible priorities, and builds the
// upstream path (strip_path / path_handling). Compiled once per config; Match() is read-only and
// safe to call from every worker at once.
//
// Semantics (reference/kong.md §2.2-§2.5), with the choices Kong leaves open:
// - Every attribute a route sets must match. methods: exact, case-sensitive. hosts: exact,
//   `*.example.com` (any depth, not the apex) or `example.*`, compared without the port and
//   case-insensitively (DNS names are; Kong leaves this unconfirmed). A host with `:port` also
//   needs the Host header's port, or RequestView::listener_port when the header has none.
// - paths: a prefix is a character prefix of the normalised path; a regex is anchored at the
//   start only; a template (`/users/{id}`, `/api/:id`, `/files/{rest+}`, see path_template.h)
//   matches whole segments and, like a prefix, also longer paths.
// - headers: names and plain values compare case-insensitively; a `~*regex` value is an
//   unanchored case-insensitive RE2 search of the header value; any value of a repeated header
//   may match.
// - Priority: Kong's 64-bit key (priority.h): match weight, plain-hosts-only, header count,
//   regex bit, regex_priority (regex and template paths only), prefix length. A template ranks
//   exactly like a regex path. A route whose paths differ in kind or prefix length is split into
//   one sub-route per group, each ranked on its own. Equal keys (undefined in Kong) go to the
//   route listed first in Config::routes.
// - Routes of a disabled service, and routes with only stream protocols, are left out.
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

// A named or numbered capture of a regex or template path (uri_captures in Kong). A regex
// reports one Capture per group in group order (captures[i] is group i+1), named or not; a
// template reports one per parameter. At most 16 are reported.
struct Capture {
  absl::string_view name;   // empty for an unnamed group; a view into the Router
  absl::string_view value;  // view into RequestView::path; empty when the group did not take part
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

  // Finds the highest-priority route matching `req`. Returns false when none matches (and leaves
  // `out` untouched). Cost grows with the path and host length, with the routes that share the
  // request's host and a prefix of its path, and with the regex routes that could outrank the
  // best match found so far; not with the table size. The router itself
  // does not allocate (captures past 4 spill out of `out`'s inline storage); RE2 may allocate
  // scratch space when it extracts the winning regex's submatches.
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
// "v0" (and anything else) is Kong's get_upstream_uri; "v1" is the traditional router's
// concatenation. An empty `matched_prefix` strips nothing (a route without paths; also a regex
// that matched the empty string, where Kong would differ only for the request path "/").
// A remainder starting with a dot segment loses it, as in Kong: with strip_path, route `/route`
// and service `/service`, the request `/route./req` goes up as `/service/req`.
void BuildUpstreamPath(absl::string_view service_path, bool strip_path,
                       absl::string_view path_handling, absl::string_view request_path,
                       absl::string_view matched_prefix, std::string* out);

}  // namespace sluice::router

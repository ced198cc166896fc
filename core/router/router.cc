// SPDX-License-Identifier: Apache-2.0
// The compiled routing table and its lookup. Routes are split into sub-routes (one per group of
// paths with equal priority), ranked once by their 64-bit priority key, and indexed by host
// (hash maps for exact names and wildcard suffixes/prefixes) and then by path (a radix tree of
// literal prefixes, a list of regex/template paths, a list of path-less routes).
#include "core/router/router.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

#include "core/common/strings.h"
#include "core/config/route_path.h"
#include "core/router/host.h"
#include "core/router/path_template.h"
#include "core/router/path_trie.h"
#include "core/router/priority.h"

namespace sluice::router {
namespace {

// Captures reported per match; groups past this are dropped.
constexpr size_t kMaxCaptures = 16;

// Longest Host name the index looks up (DNS names are at most 253 bytes). A longer Host header
// can only match routes without hosts.
constexpr size_t kMaxHostLength = 255;

struct HeaderCondition {
  std::string name;                           // lower-case
  std::vector<std::string> values;            // plain values, lower-case
  std::vector<std::unique_ptr<RE2>> regexes;  // "~*" values, case-insensitive, unanchored
};

// The conditions shared by every sub-route of one route.
struct RouteConditions {
  std::vector<std::string> methods;
  std::vector<HeaderCondition> headers;
};

// A regex or template path of a sub-route.
struct PatternPath {
  std::unique_ptr<RE2> regex;            // set for a regex path
  size_t groups = 0;                     // capturing groups reported (<= kMaxCaptures)
  std::vector<std::string> group_names;  // name of group i+1, "" when unnamed
  PathTemplate tmpl;                     // used when `regex` is null
};

enum class PathKind { kNone, kPrefix, kPattern };

// One route, or one group of a route's paths. Its index in Impl::subs is its rank: lower ranks
// win.
struct SubRoute {
  int route = -1;
  int service = -1;
  uint64_t priority = 0;
  size_t conditions = 0;  // index into Impl::conditions
  PathKind path_kind = PathKind::kNone;
  std::vector<std::string> prefixes;  // kPrefix: the group's literal prefixes
  std::vector<PatternPath> patterns;  // kPattern: tried in config order
};

// A sub-route listed under one host key. `port` is the port that host entry requires (0: any).
struct Entry {
  int32_t sub = 0;
  int32_t port = 0;

  bool operator<(const Entry& o) const { return sub != o.sub ? sub < o.sub : port < o.port; }
};

// Every sub-route reachable through one host key, indexed by path. Each list is in rank order.
struct Bucket {
  PrefixTrie<Entry> prefixes;
  std::vector<Entry> patterns;
  std::vector<Entry> no_path;
};

using BucketMap = absl::flat_hash_map<std::string, Bucket>;

// The request-side state of one Match() call; lives on the caller's stack.
struct Search {
  const RequestView* req = nullptr;
  int port = 0;                // Host header port, else the listener port
  int32_t best = INT32_MAX;    // rank of the best full match so far
  size_t best_prefix_len = 0;  // kPrefix: length of the matched prefix
  size_t best_pattern = 0;     // kPattern: which pattern matched
};

absl::Status RouteError(const config::Config& config, size_t index, const config::Mark& mark,
                        absl::string_view message) {
  const config::Route& r = config.routes[index];
  std::string where;
  if (mark.line > 0) {
    where = absl::StrCat(config.source_file, ":", mark.line, ":", mark.col, ": ");
  }
  std::string name = r.name.empty() ? absl::StrCat("#", index) : absl::StrCat("'", r.name, "'");
  return absl::InvalidArgumentError(absl::StrCat(where, "route ", name, ": ", message));
}

// Routes on stream protocols (tcp, tls, udp, ...) are not HTTP routes.
bool IsHttpRoute(const config::Route& r) {
  if (r.protocols.empty()) {
    return true;
  }
  for (const auto& p : r.protocols) {
    if (p == "http" || p == "https" || p == "grpc" || p == "grpcs") {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<RE2>> CompileRegex(absl::string_view pattern, bool case_sensitive) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(case_sensitive);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid regex '", pattern, "': ", re->error()));
  }
  return re;
}

bool MethodMatches(const RouteConditions& c, absl::string_view method) {
  if (c.methods.empty()) {
    return true;
  }
  for (const auto& m : c.methods) {
    if (m == method) {
      return true;
    }
  }
  return false;
}

bool HeaderValueMatches(const HeaderCondition& h, absl::string_view value) {
  for (const auto& v : h.values) {
    if (IEquals(v, value)) {
      return true;
    }
  }
  for (const auto& re : h.regexes) {
    if (re->Match(re2::StringPiece(value.data(), value.size()), 0, value.size(), RE2::UNANCHORED,
                  nullptr, 0)) {
      return true;
    }
  }
  return false;
}

bool HeadersMatch(const RouteConditions& c, const http::HeaderMap* headers) {
  if (c.headers.empty()) {
    return true;
  }
  if (headers == nullptr) {
    return false;
  }
  for (const auto& h : c.headers) {
    bool found = false;
    headers->ForEach(h.name, [&](absl::string_view value) {
      found = HeaderValueMatches(h, value);
      return !found;
    });
    if (!found) {
      return false;
    }
  }
  return true;
}

// Tries the patterns of `sub` in order; returns the index of the first that matches, or -1.
// Only tests for a match (no submatches): the winner's captures are extracted once, at the end.
int MatchPatterns(const SubRoute& sub, absl::string_view path) {
  re2::StringPiece text(path.data(), path.size());
  for (size_t i = 0; i < sub.patterns.size(); ++i) {
    const PatternPath& p = sub.patterns[i];
    if (p.regex != nullptr) {
      if (p.regex->Match(text, 0, path.size(), RE2::ANCHOR_START, nullptr, 0)) {
        return static_cast<int>(i);
      }
    } else {
      size_t len = 0;
      if (p.tmpl.Match(path, &len, nullptr, 0)) {
        return static_cast<int>(i);
      }
    }
  }
  return -1;
}

// Lower-cases `host` into `buf`; false when it does not fit.
bool LowerHost(absl::string_view host, char (&buf)[kMaxHostLength], absl::string_view* out) {
  if (host.size() > kMaxHostLength) {
    return false;
  }
  for (size_t i = 0; i < host.size(); ++i) {
    buf[i] = absl::ascii_tolower(host[i]);
  }
  *out = absl::string_view(buf, host.size());
  return true;
}

}  // namespace

struct Router::Impl {
  std::vector<RouteConditions> conditions;
  std::vector<SubRoute> subs;  // in rank order
  BucketMap exact;             // "api.example.com"
  BucketMap suffix;            // ".example.com" for "*.example.com"
  BucketMap prefix;            // "example." for "example.*"
  Bucket any_host;             // routes without hosts

  // Evaluates the rank-ordered `list` and records the first full match if it beats the best.
  void Scan(const std::vector<Entry>& list, PathKind kind, size_t prefix_len, Search* s) const {
    for (const Entry& e : list) {
      if (e.sub >= s->best) {
        return;
      }
      if (e.port != 0 && e.port != s->port) {
        continue;
      }
      const SubRoute& sub = subs[static_cast<size_t>(e.sub)];
      const RouteConditions& c = conditions[sub.conditions];
      if (!MethodMatches(c, s->req->method) || !HeadersMatch(c, s->req->headers)) {
        continue;
      }
      if (kind == PathKind::kPattern) {
        int which = MatchPatterns(sub, s->req->path);
        if (which < 0) {
          continue;
        }
        s->best_pattern = static_cast<size_t>(which);
      }
      s->best = e.sub;
      s->best_prefix_len = prefix_len;
      return;
    }
  }

  void SearchBucket(const Bucket& b, Search* s) const {
    b.prefixes.ForEachPrefixOf(s->req->path, [&](size_t len, const std::vector<Entry>& list) {
      Scan(list, PathKind::kPrefix, len, s);
    });
    if (!b.no_path.empty()) {
      Scan(b.no_path, PathKind::kNone, 0, s);
    }
    if (!b.patterns.empty()) {
      Scan(b.patterns, PathKind::kPattern, 0, s);
    }
  }

  void Index(const std::vector<std::vector<HostPattern>>& hosts_by_route);
};

namespace {

// A sub-route before ranking, with what the sort needs.
struct Pending {
  SubRoute sub;
  size_t group = 0;  // position of the group inside its route
};

}  // namespace

Router::Router() : impl_(std::make_unique<Impl>()) {}

Router::~Router() = default;

absl::StatusOr<std::unique_ptr<Router>> Router::Compile(const config::Config& config) {
  std::unique_ptr<Router> router(new Router());
  Impl& impl = *router->impl_;
  std::vector<Pending> pending;
  std::vector<std::vector<HostPattern>> hosts_by_route(config.routes.size());

  for (size_t i = 0; i < config.routes.size(); ++i) {
    const config::Route& r = config.routes[i];
    if (r.service >= static_cast<int>(config.services.size())) {
      return RouteError(config, i, r.mark, "service index out of range");
    }
    if (r.service >= 0 && !config.services[static_cast<size_t>(r.service)].enabled) {
      continue;
    }
    if (!IsHttpRoute(r)) {
      continue;
    }

    // Conditions shared by the route's sub-routes.
    RouteConditions cond;
    cond.methods = r.methods;
    for (const auto& h : r.headers) {
      HeaderCondition hc;
      hc.name = absl::AsciiStrToLower(h.name);
      for (const auto& v : h.values) {
        if (absl::StartsWith(v, "~*")) {
          // Header regexes are stored as written (PCRE); convert them as the loader checked.
          auto re = CompileRegex(config::ToRe2Syntax(absl::string_view(v).substr(2)),
                                 /*case_sensitive=*/false);
          if (!re.ok()) {
            return RouteError(config, i, r.mark,
                              absl::StrCat("headers.", h.name, ": ", re.status().message()));
          }
          hc.regexes.push_back(*std::move(re));
        } else {
          hc.values.push_back(absl::AsciiStrToLower(v));
        }
      }
      cond.headers.push_back(std::move(hc));
    }
    size_t cond_index = impl.conditions.size();
    impl.conditions.push_back(std::move(cond));

    bool plain_hosts_only = !r.hosts.empty();
    for (const auto& h : r.hosts) {
      auto parsed = ParseHostPattern(h);
      if (!parsed.ok()) {
        return RouteError(config, i, r.mark, parsed.status().message());
      }
      if (parsed->kind != HostPattern::Kind::kExact) {
        plain_hosts_only = false;
      }
      hosts_by_route[i].push_back(*std::move(parsed));
    }

    PriorityInputs base;
    base.match_weight = (r.methods.empty() ? 0 : 1) + (r.hosts.empty() ? 0 : 1) +
                        (r.headers.empty() ? 0 : 1) + (r.paths.empty() ? 0 : 1);
    base.plain_hosts_only = plain_hosts_only;
    base.header_count = r.headers.size();

    auto make_sub = [&](PathKind kind) {
      Pending p;
      p.sub.route = static_cast<int>(i);
      p.sub.service = r.service;
      p.sub.conditions = cond_index;
      p.sub.path_kind = kind;
      return p;
    };

    if (r.paths.empty()) {
      Pending p = make_sub(PathKind::kNone);
      p.sub.priority = PriorityKey(base);
      pending.push_back(std::move(p));
      continue;
    }

    // Group the paths as Kong splits a route: all regex (and template) paths together, and
    // literal prefixes by length. Groups keep the order of their first path.
    size_t first_group = pending.size();
    for (const config::RoutePath& path : r.paths) {
      bool is_pattern = path.kind != config::RoutePath::Kind::kPrefix;
      Pending* group = nullptr;
      for (size_t g = first_group; g < pending.size(); ++g) {
        SubRoute& s = pending[g].sub;
        bool same = is_pattern ? s.path_kind == PathKind::kPattern
                               : s.path_kind == PathKind::kPrefix &&
                                     s.prefixes.front().size() == path.pattern.size();
        if (same) {
          group = &pending[g];
        }
      }
      if (group == nullptr) {
        Pending p = make_sub(is_pattern ? PathKind::kPattern : PathKind::kPrefix);
        PriorityInputs in = base;
        in.regex = is_pattern;
        in.regex_priority = is_pattern ? r.regex_priority : 0;
        in.prefix_length = is_pattern ? 0 : path.pattern.size();
        p.sub.priority = PriorityKey(in);
        p.group = pending.size() - first_group;
        pending.push_back(std::move(p));
        group = &pending.back();
      }
      switch (path.kind) {
        case config::RoutePath::Kind::kPrefix:
          group->sub.prefixes.push_back(path.pattern);
          break;
        case config::RoutePath::Kind::kRegex: {
          auto re = CompileRegex(path.pattern, /*case_sensitive=*/true);
          if (!re.ok()) {
            return RouteError(config, i, path.mark, re.status().message());
          }
          PatternPath pp;
          pp.groups =
              std::min<size_t>(static_cast<size_t>((*re)->NumberOfCapturingGroups()), kMaxCaptures);
          pp.group_names.resize(pp.groups);
          for (const auto& [idx, name] : (*re)->CapturingGroupNames()) {
            if (idx >= 1 && static_cast<size_t>(idx) <= pp.groups) {
              pp.group_names[static_cast<size_t>(idx) - 1] = name;
            }
          }
          pp.regex = *std::move(re);
          group->sub.patterns.push_back(std::move(pp));
          break;
        }
        case config::RoutePath::Kind::kTemplate: {
          auto tmpl = PathTemplate::Parse(path.pattern);
          if (!tmpl.ok()) {
            return RouteError(config, i, path.mark, tmpl.status().message());
          }
          PatternPath pp;
          pp.tmpl = *std::move(tmpl);
          pp.groups = std::min(pp.tmpl.param_count(), kMaxCaptures);
          for (size_t g = 0; g < pp.groups; ++g) {
            pp.group_names.push_back(pp.tmpl.param_name(g));
          }
          group->sub.patterns.push_back(std::move(pp));
          break;
        }
      }
    }
  }

  // Rank: higher priority first; ties go to the route listed first in the config, then to the
  // route's earlier path group.
  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    if (a.sub.priority != b.sub.priority) {
      return a.sub.priority > b.sub.priority;
    }
    if (a.sub.route != b.sub.route) {
      return a.sub.route < b.sub.route;
    }
    return a.group < b.group;
  });
  impl.subs.reserve(pending.size());
  for (auto& p : pending) {
    impl.subs.push_back(std::move(p.sub));
  }
  impl.Index(hosts_by_route);
  return router;
}

void Router::Impl::Index(const std::vector<std::vector<HostPattern>>& hosts_by_route) {
  auto add = [this](Bucket& b, int32_t rank, int32_t port) {
    const SubRoute& sub = subs[static_cast<size_t>(rank)];
    Entry e{rank, port};
    switch (sub.path_kind) {
      case PathKind::kNone:
        b.no_path.push_back(e);
        break;
      case PathKind::kPrefix:
        for (const auto& p : sub.prefixes) {
          b.prefixes.Insert(p, e);
        }
        break;
      case PathKind::kPattern:
        b.patterns.push_back(e);
        break;
    }
  };
  // Sub-routes are visited in rank order, so every list comes out sorted; Finish() sorts the
  // trie anyway and orders the ports of one sub-route.
  for (size_t rank = 0; rank < subs.size(); ++rank) {
    const auto& hosts = hosts_by_route[static_cast<size_t>(subs[rank].route)];
    int32_t r = static_cast<int32_t>(rank);
    if (hosts.empty()) {
      add(any_host, r, 0);
      continue;
    }
    for (const HostPattern& h : hosts) {
      BucketMap& map = h.kind == HostPattern::Kind::kExact    ? exact
                       : h.kind == HostPattern::Kind::kSuffix ? suffix
                                                              : prefix;
      add(map[h.key], r, h.port);
    }
  }
  auto finish = [](Bucket& b) {
    b.prefixes.Finish();
    std::sort(b.patterns.begin(), b.patterns.end());
    std::sort(b.no_path.begin(), b.no_path.end());
  };
  finish(any_host);
  for (BucketMap* m : {&exact, &suffix, &prefix}) {
    for (auto& [key, b] : *m) {
      finish(b);
    }
  }
}

bool Router::Match(const RequestView& req, MatchResult* out) const {
  const Impl& impl = *impl_;
  Search s;
  s.req = &req;

  absl::string_view host_name;
  int host_port = 0;
  SplitHostPort(req.host, &host_name, &host_port);
  s.port = host_port != 0 ? host_port : req.listener_port;

  char buf[kMaxHostLength];
  absl::string_view host;
  if (!host_name.empty() && LowerHost(host_name, buf, &host)) {
    if (auto it = impl.exact.find(host); it != impl.exact.end()) {
      impl.SearchBucket(it->second, &s);
    }
    // `*.example.com` is stored as ".example.com": try every suffix that starts at a dot.
    if (!impl.suffix.empty()) {
      for (size_t dot = host.find('.'); dot != absl::string_view::npos;
           dot = host.find('.', dot + 1)) {
        if (auto it = impl.suffix.find(host.substr(dot)); it != impl.suffix.end()) {
          impl.SearchBucket(it->second, &s);
        }
      }
    }
    // `example.*` is stored as "example.": try every prefix that ends at a dot.
    if (!impl.prefix.empty()) {
      for (size_t dot = host.find('.'); dot != absl::string_view::npos;
           dot = host.find('.', dot + 1)) {
        if (auto it = impl.prefix.find(host.substr(0, dot + 1)); it != impl.prefix.end()) {
          impl.SearchBucket(it->second, &s);
        }
      }
    }
  }
  impl.SearchBucket(impl.any_host, &s);

  if (s.best == INT32_MAX) {
    return false;
  }
  const SubRoute& sub = impl.subs[static_cast<size_t>(s.best)];
  out->route = sub.route;
  out->service = sub.service;
  out->matched_prefix = absl::string_view();
  out->captures.resize(0);
  switch (sub.path_kind) {
    case PathKind::kNone:
      break;
    case PathKind::kPrefix:
      out->matched_prefix = req.path.substr(0, s.best_prefix_len);
      break;
    case PathKind::kPattern: {
      const PatternPath& p = sub.patterns[s.best_pattern];
      if (p.regex != nullptr) {
        re2::StringPiece groups[kMaxCaptures + 1];
        p.regex->Match(re2::StringPiece(req.path.data(), req.path.size()), 0, req.path.size(),
                       RE2::ANCHOR_START, groups, static_cast<int>(p.groups + 1));
        out->matched_prefix = absl::string_view(groups[0].data(), groups[0].size());
        for (size_t g = 1; g <= p.groups; ++g) {
          out->captures.push_back(
              Capture{p.group_names[g - 1], absl::string_view(groups[g].data(), groups[g].size())});
        }
      } else {
        absl::string_view values[kMaxCaptures];
        size_t len = 0;
        p.tmpl.Match(req.path, &len, values, kMaxCaptures);
        out->matched_prefix = req.path.substr(0, len);
        for (size_t g = 0; g < p.groups; ++g) {
          out->captures.push_back(Capture{p.group_names[g], values[g]});
        }
      }
      break;
    }
  }
  return true;
}

}  // namespace sluice::router

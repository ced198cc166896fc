// SPDX-License-Identifier: Apache-2.0
// Parsers for upstreams (with the full `healthchecks` record) and targets
// (kong/db/schema/entities/upstreams.lua, targets.lua; reference/kong.md §1.7).
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "core/config/entities.h"
#include "core/config/field_checks.h"
#include "core/config/uuid.h"

namespace sluice::config::internal {
namespace {

constexpr std::initializer_list<absl::string_view> kHashOn = {
    "none", "consumer", "ip", "header", "cookie", "path", "query_arg", "uri_capture"};

// The counters of one healthchecks.{active,passive}.{healthy,unhealthy} record. Passive records
// have no `interval`; healthy ones count `successes`, unhealthy ones failures.
void ParseCounters(Diagnostics& diag, const YAML::Node& node, const std::string& where, bool active,
                   bool healthy, HealthcheckCounters* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (active) {
    if (auto v = rec.Number("interval", 0, 65535)) {
      if (std::floor(*v) != *v) {
        rec.Error("interval", "fractional seconds are not supported yet");
      } else {
        out->interval = static_cast<int>(*v);
      }
    }
  }
  if (const YAML::Node* v = rec.Take("http_statuses")) {
    std::vector<int> statuses;
    if (ForEachElement(diag, *v, Field(where, "http_statuses"), /*set=*/false,
                       [&](const YAML::Node& element, const std::string& w) {
                         if (auto s = ReadInteger(diag, element, w, 100, 999)) {
                           statuses.push_back(static_cast<int>(*s));
                         }
                       })) {
      out->http_statuses = std::move(statuses);
    }
  }
  if (healthy) {
    if (auto v = rec.Integer("successes", 0, 255)) {
      out->successes = static_cast<int>(*v);
    }
  } else {
    if (auto v = rec.Integer("tcp_failures", 0, 255)) {
      out->tcp_failures = static_cast<int>(*v);
    }
    if (auto v = rec.Integer("timeouts", 0, 255)) {
      out->timeouts = static_cast<int>(*v);
    }
    if (auto v = rec.Integer("http_failures", 0, 255)) {
      out->http_failures = static_cast<int>(*v);
    }
  }
  rec.Finish();
}

void ParseActive(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                 Healthchecks::Active* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (auto v = rec.OneOf("type", {"tcp", "http", "https", "grpc", "grpcs"})) {
    out->type = *v;
  }
  if (auto v = rec.Number("timeout", 0, 65535)) {
    out->timeout = *v;
  }
  if (auto v = rec.Integer("concurrency", 1, int64_t{1} << 31)) {
    out->concurrency = static_cast<int>(std::min<int64_t>(*v, std::numeric_limits<int>::max()));
  }
  if (auto v = rec.String("http_path")) {
    if (auto err = CheckPath(*v)) {
      rec.Error("http_path", *err);
    } else {
      out->http_path = *v;
    }
  }
  if (auto v = rec.String("https_sni")) {
    if (auto err = CheckSni(*v)) {
      rec.Error("https_sni", *err);
    } else {
      out->https_sni = *v;
    }
  }
  if (auto v = rec.Bool("https_verify_certificate")) {
    out->https_verify_certificate = *v;
  }
  if (const YAML::Node* headers = rec.Take("headers")) {
    std::string hw = Field(where, "headers");
    if (ExpectMap(diag, *headers, hw, "expected a map")) {
      for (MapEntry& e : MapEntries(diag, *headers, hw)) {
        std::string ew = Field(hw, e.key);
        if (auto err = CheckHeaderName(e.key)) {
          diag.Add(e.key_mark, ew, *err);
          continue;
        }
        if (e.value.IsNull()) {
          diag.Add(e.key_mark, ew, "expected an array");
          continue;
        }
        if (auto values = ReadStrings(diag, e.value, ew, /*set=*/false)) {
          out->headers[e.key] = std::move(*values);
        }
      }
    }
  }
  if (const YAML::Node* v = rec.Take("healthy")) {
    ParseCounters(diag, *v, Field(where, "healthy"), true, true, &out->healthy);
  }
  if (const YAML::Node* v = rec.Take("unhealthy")) {
    ParseCounters(diag, *v, Field(where, "unhealthy"), true, false, &out->unhealthy);
  }
  rec.Finish();
}

void ParsePassive(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                  Healthchecks::Passive* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (auto v = rec.OneOf("type", {"tcp", "http", "https", "grpc", "grpcs"})) {
    out->type = *v;
  }
  if (const YAML::Node* v = rec.Take("healthy")) {
    ParseCounters(diag, *v, Field(where, "healthy"), false, true, &out->healthy);
  }
  if (const YAML::Node* v = rec.Take("unhealthy")) {
    ParseCounters(diag, *v, Field(where, "unhealthy"), false, false, &out->unhealthy);
  }
  rec.Finish();
}

void ParseHealthchecks(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                       Healthchecks* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (auto v = rec.Number("threshold", 0, 100)) {
    out->threshold = *v;
  }
  if (const YAML::Node* v = rec.Take("active")) {
    ParseActive(diag, *v, Field(where, "active"), &out->active);
  }
  if (const YAML::Node* v = rec.Take("passive")) {
    ParsePassive(diag, *v, Field(where, "passive"), &out->passive);
  }
  rec.Finish();
}

void ParseBreaker(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                  CircuitBreaker* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (auto v = rec.Bool("enabled")) {
    out->enabled = *v;
  }
  if (auto v = rec.Integer("failure_threshold", 1, 1000)) {
    out->failure_threshold = static_cast<int>(*v);
  }
  if (auto v = rec.Number("open_timeout", 0.001, 86400)) {
    out->open_timeout = *v;
  }
  if (auto v = rec.Integer("half_open_requests", 1, 1000)) {
    out->half_open_requests = static_cast<int>(*v);
  }
  rec.Finish();
}

void ParseRetryBudget(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                      RetryBudget* out) {
  if (!ExpectMap(diag, node, where)) {
    return;
  }
  Record rec(diag, node, where);
  if (auto v = rec.Bool("enabled")) {
    out->enabled = *v;
  }
  if (auto v = rec.Number("percent", 0, 100)) {
    out->percent = *v;
  }
  if (auto v = rec.Integer("min_retries", 0, 100000)) {
    out->min_retries = static_cast<int>(*v);
  }
  rec.Finish();
}

// A non-empty string (Kong's len_min = 1 parameters such as hash_on_query_arg).
void ReadParam(Record& rec, absl::string_view key, std::string* out) {
  if (auto v = rec.String(key)) {
    if (v->empty()) {
      rec.Error(key, "length must be at least 1");
    } else {
      *out = *v;
    }
  }
}

// Kong's cross-field rules between hash_on, hash_fallback and their parameters.
void CheckHashing(Record& rec, const Upstream& u) {
  auto require = [&](bool needed, absl::string_view key, const std::string& value) {
    if (needed && value.empty() && !rec.Has(key)) {
      rec.Missing(key);
    }
  };
  require(u.hash_on == "header", "hash_on_header", u.hash_on_header);
  require(u.hash_fallback == "header", "hash_fallback_header", u.hash_fallback_header);
  require(u.hash_on == "cookie" || u.hash_fallback == "cookie", "hash_on_cookie", u.hash_on_cookie);
  require(u.hash_on == "query_arg", "hash_on_query_arg", u.hash_on_query_arg);
  require(u.hash_fallback == "query_arg", "hash_fallback_query_arg", u.hash_fallback_query_arg);
  require(u.hash_on == "uri_capture", "hash_on_uri_capture", u.hash_on_uri_capture);
  require(u.hash_fallback == "uri_capture", "hash_fallback_uri_capture",
          u.hash_fallback_uri_capture);

  if ((u.hash_on == "none" || u.hash_on == "cookie") && u.hash_fallback != "none") {
    rec.Error("hash_fallback", "expected one of: none");
  } else if (u.hash_on == u.hash_fallback && u.hash_on != "none" && u.hash_on != "header" &&
             u.hash_on != "query_arg" && u.hash_on != "uri_capture") {
    std::vector<absl::string_view> allowed;
    for (absl::string_view h : kHashOn) {
      if (h != u.hash_on) {
        allowed.push_back(h);
      }
    }
    rec.Error("hash_fallback", absl::StrCat("expected one of: ", absl::StrJoin(allowed, ", ")));
  }

  auto distinct = [&](absl::string_view a, const std::string& va, absl::string_view b,
                      const std::string& vb) {
    if (!va.empty() && va == vb) {
      rec.Error(b, absl::StrCat("values of these fields must be distinct: '", a, "', '", b, "'"));
    }
  };
  distinct("hash_on_header", u.hash_on_header, "hash_fallback_header", u.hash_fallback_header);
  distinct("hash_on_query_arg", u.hash_on_query_arg, "hash_fallback_query_arg",
           u.hash_fallback_query_arg);
  distinct("hash_on_uri_capture", u.hash_on_uri_capture, "hash_fallback_uri_capture",
           u.hash_fallback_uri_capture);
}

}  // namespace

void ParseUpstream(Diagnostics& diag, Document& doc, const YAML::Node& node,
                   const std::string& where) {
  Record rec(diag, node, where);
  PendingUpstream pu;
  pu.where = where;
  Upstream& u = pu.value;
  u.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pu.id_given = ReadId(rec, &u.id, &pu.id_mark);

  pu.name_mark = rec.ValueMark("name");
  if (!rec.Has("name")) {
    rec.Missing("name");
  }
  if (auto name = rec.String("name")) {
    HostPort hp;
    std::string error;
    if (!NormalizeIp(*name, &hp, &error)) {
      rec.Error("name", "invalid name; must be a valid hostname");
    } else if (hp.type != HostPort::Type::kName) {
      rec.Error("name", "invalid name; no ip addresses allowed");
    } else if (hp.port) {
      rec.Error("name", "invalid name; no port allowed");
    } else {
      u.name = *name;
    }
  }

  auto algorithm =
      rec.OneOf("algorithm", {"consistent-hashing", "least-connections", "round-robin", "latency"});
  bool hash_on_given = rec.Has("hash_on");
  auto hash_on = rec.OneOf("hash_on", kHashOn);
  auto hash_fallback = rec.OneOf("hash_fallback", kHashOn);
  if (algorithm) {
    u.algorithm = *algorithm;
  }
  if (hash_on) {
    u.hash_on = *hash_on;
  }
  if (hash_fallback) {
    u.hash_fallback = *hash_fallback;
  }
  // Kong's coupling (reference/kong.md §1.7): least-connections and latency clear hash_on;
  // otherwise an explicit hash_on picks consistent-hashing, or round-robin for "none".
  if (u.algorithm == "least-connections" || u.algorithm == "latency") {
    u.hash_on = "none";
    u.hash_fallback = "none";
  } else if (hash_on_given && hash_on) {
    u.algorithm = u.hash_on == "none" ? "round-robin" : "consistent-hashing";
  }

  if (auto v = rec.String("hash_on_header")) {
    if (auto err = CheckHeaderName(*v)) {
      rec.Error("hash_on_header", *err);
    } else {
      u.hash_on_header = *v;
    }
  }
  if (auto v = rec.String("hash_fallback_header")) {
    if (auto err = CheckHeaderName(*v)) {
      rec.Error("hash_fallback_header", *err);
    } else {
      u.hash_fallback_header = *v;
    }
  }
  if (auto v = rec.String("hash_on_cookie")) {
    if (auto err = CheckCookieName(*v)) {
      rec.Error("hash_on_cookie", *err);
    } else {
      u.hash_on_cookie = *v;
    }
  }
  if (auto v = rec.String("hash_on_cookie_path")) {
    if (auto err = CheckPath(*v)) {
      rec.Error("hash_on_cookie_path", *err);
    } else {
      u.hash_on_cookie_path = *v;
    }
  }
  ReadParam(rec, "hash_on_query_arg", &u.hash_on_query_arg);
  ReadParam(rec, "hash_fallback_query_arg", &u.hash_fallback_query_arg);
  ReadParam(rec, "hash_on_uri_capture", &u.hash_on_uri_capture);
  ReadParam(rec, "hash_fallback_uri_capture", &u.hash_fallback_uri_capture);
  // The cross-field rules only make sense when the three fields themselves are valid.
  bool hashing_valid = (algorithm || !rec.Has("algorithm")) && (hash_on || !rec.Has("hash_on")) &&
                       (hash_fallback || !rec.Has("hash_fallback"));
  if (hashing_valid) {
    CheckHashing(rec, u);
  }

  if (auto v = rec.Integer("slots", 10, 65536)) {
    u.slots = static_cast<int>(*v);
  }
  if (const YAML::Node* v = rec.Take("healthchecks")) {
    ParseHealthchecks(diag, *v, Field(where, "healthchecks"), &u.healthchecks);
  }
  if (const YAML::Node* v = rec.Take("circuit_breaker")) {
    ParseBreaker(diag, *v, Field(where, "circuit_breaker"), &u.circuit_breaker);
  }
  if (const YAML::Node* v = rec.Take("retry_budget")) {
    ParseRetryBudget(diag, *v, Field(where, "retry_budget"), &u.retry_budget);
  }
  if (auto v = rec.String("host_header")) {
    if (auto err = CheckHostWithOptionalPort(*v)) {
      rec.Error("host_header", *err);
    } else {
      u.host_header = *v;
    }
  }
  if (auto v = rec.Bool("use_srv_name")) {
    u.use_srv_name = *v;
  }
  if (auto v = rec.Tags()) {
    u.tags = std::move(*v);
  }
  if (rec.Take("client_certificate") != nullptr) {
    rec.Error("client_certificate", "not supported yet");
  }

  if (!pu.id_given) {
    u.id = KongEntityId("upstreams", u.name.empty() ? where : u.name);
  }
  Parent self{Parent::Kind::kUpstream, static_cast<int>(doc.upstreams.size()), u.id, where};
  doc.upstreams.push_back(std::move(pu));

  if (const YAML::Node* targets = rec.Take("targets")) {
    ForEachRecord(
        diag, *targets, Field(where, "targets"),
        [&](const YAML::Node& n, const std::string& w) { ParseTarget(diag, doc, n, w, self); });
  }
  rec.Finish();
}

void ParseTarget(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                 const Parent& parent) {
  Record rec(diag, node, where);
  PendingTarget pt;
  pt.where = where;
  pt.parent = parent;
  Target& t = pt.value;
  t.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pt.id_given = ReadId(rec, &pt.id, &pt.id_mark);
  pt.target_mark = rec.ValueMark("target");
  if (!rec.Has("target")) {
    rec.Missing("target");
  }
  if (auto v = rec.String("target")) {
    HostPort hp;
    std::string error;
    if (!NormalizeIp(*v, &hp, &error)) {
      rec.Error("target", "invalid target; not a valid hostname or ip address");
    } else {
      t.target = *v;
      t.host = hp.host;
      // Kong's DAO adds port 8000 when none is written (reference/kong.md §1.7).
      t.port = hp.port.value_or(8000);
    }
  }
  if (auto v = rec.Integer("weight", 0, 65535)) {
    t.weight = static_cast<int>(*v);
  }
  if (auto v = rec.Tags()) {
    t.tags = std::move(*v);
  }
  pt.upstream = ReadRef(rec, "upstream", parent, Parent::Kind::kUpstream);
  if (parent.kind != Parent::Kind::kUpstream && !pt.upstream.present && !rec.Has("upstream")) {
    rec.Missing("upstream");
  }
  if (!pt.id_given) {
    // Kong: `target` is not globally unique, so the key is "<target>:<upstream>" with the
    // parent's id when nested, or the upstream reference as written.
    std::string upstream = parent.kind == Parent::Kind::kUpstream ? parent.id : pt.upstream.value;
    pt.id =
        KongEntityId("targets", t.target.empty() ? where : absl::StrCat(t.target, ":", upstream));
  }
  doc.targets.push_back(std::move(pt));
  rec.Finish();
}

}  // namespace sluice::config::internal

// SPDX-License-Identifier: Apache-2.0
// Parsers for services and routes (kong/db/schema/entities/services.lua, routes.lua,
// routes_subschemas.lua), plus the helpers every entity parser shares.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "core/config/entities.h"
#include "core/config/field_checks.h"
#include "core/config/route_path.h"
#include "core/config/uuid.h"

namespace sluice::config::internal {
namespace {

constexpr int64_t kMaxTimeout = 2147483646;  // 2^31 - 2

// Kong's constants.PROTOCOLS; sluice proxies only the first two for now.
std::optional<std::string> CheckProtocol(absl::string_view protocol) {
  static constexpr absl::string_view kAll[] = {"grpc", "grpcs",           "http", "https", "tcp",
                                               "tls",  "tls_passthrough", "udp"};
  bool known = false;
  for (absl::string_view p : kAll) {
    known = known || p == protocol;
  }
  if (!known) {
    return "expected one of: grpc, grpcs, http, https, tcp, tls, tls_passthrough, udp";
  }
  if (protocol != "http" && protocol != "https") {
    return absl::StrCat("protocol '", protocol, "' is not supported yet (only http and https)");
  }
  return std::nullopt;
}

// Fields Kong has that sluice cannot honour yet: rejected rather than silently ignored.
void RejectUnsupported(Record& rec, std::initializer_list<absl::string_view> keys) {
  for (absl::string_view key : keys) {
    if (rec.Take(key) != nullptr) {
      rec.Error(key, "not supported yet");
    }
  }
}

// Reads a `name` (typedefs.utf8_name); returns the mark of its value.
void ReadName(Record& rec, absl::string_view key, std::string* out, YAML::Mark* mark) {
  *mark = rec.ValueMark(key);
  if (auto name = rec.String(key)) {
    if (auto err = CheckUtf8Name(*name)) {
      rec.Error(key, *err);
    } else {
      *out = std::move(*name);
    }
  }
}

void ReadHeaders(Record& rec, Route* route) {
  const YAML::Node* headers = rec.Take("headers");
  if (headers == nullptr) {
    return;
  }
  std::string where = Field(rec.where(), "headers");
  if (!ExpectMap(rec.diag(), *headers, where, "expected a map")) {
    return;
  }
  for (MapEntry& e : MapEntries(rec.diag(), *headers, where)) {
    std::string entry_where = Field(where, e.key);
    if (absl::EqualsIgnoreCase(e.key, "host")) {
      rec.diag().Add(e.key_mark, entry_where,
                     "cannot contain 'host' header, which must be specified in the 'hosts' "
                     "attribute");
      continue;
    }
    if (auto err = CheckHeaderName(e.key)) {
      rec.diag().Add(e.key_mark, entry_where, *err);
      continue;
    }
    HeaderMatch match;
    match.name = absl::AsciiStrToLower(e.key);
    if (e.value.IsNull()) {
      rec.diag().Add(e.key_mark, entry_where, "expected an array");
      continue;
    }
    ForEachElement(rec.diag(), e.value, entry_where, /*set=*/false,
                   [&](const YAML::Node& element, const std::string& w) {
                     auto value = ReadString(rec.diag(), element, w);
                     if (!value) {
                       return;
                     }
                     if (absl::StartsWith(*value, "~*")) {
                       absl::string_view source = absl::string_view(*value).substr(2);
                       RE2::Options options;
                       options.set_log_errors(false);
                       options.set_case_sensitive(false);
                       RE2 re(ToRe2Syntax(source), options);
                       if (!re.ok()) {
                         rec.diag().Add(element.Mark(), w,
                                        absl::StrCat("invalid regex: '", source,
                                                     "' (RE2 returned: ", re.error(), ")"));
                         return;
                       }
                     } else {
                       *value = absl::AsciiStrToLower(*value);
                     }
                     match.values.push_back(std::move(*value));
                   });
    route->headers.push_back(std::move(match));
  }
}

void ReadPaths(Record& rec, bool legacy, Route* route) {
  const YAML::Node* paths = rec.Take("paths");
  if (paths == nullptr) {
    return;
  }
  ForEachElement(rec.diag(), *paths, Field(rec.where(), "paths"), /*set=*/false,
                 [&](const YAML::Node& element, const std::string& where) {
                   auto raw = ReadString(rec.diag(), element, where);
                   if (!raw) {
                     return;
                   }
                   RoutePath path;
                   path.mark = ToMark(element.Mark());
                   std::string written = legacy ? MigrateLegacyPath(*raw) : *raw;
                   if (auto err = ParseRoutePath(written, &path)) {
                     rec.diag().Add(element.Mark(), where, *err);
                     return;
                   }
                   route->paths.push_back(std::move(path));
                 });
}

}  // namespace

void ForEachRecord(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                   const std::function<void(const YAML::Node&, const std::string&)>& fn) {
  ForEachElement(diag, node, where, /*set=*/false,
                 [&](const YAML::Node& element, const std::string& element_where) {
                   if (ExpectMap(diag, element, element_where)) {
                     fn(element, element_where);
                   }
                 });
}

Ref ReadRef(Record& rec, absl::string_view field, const Parent& parent,
            Parent::Kind forbidden_when) {
  Ref ref;
  ref.field = std::string(field);
  ref.where = Field(rec.where(), field);
  ref.mark = rec.ValueMark(field);
  const YAML::Node* v = rec.Take(field);
  if (v == nullptr) {
    return ref;
  }
  if (parent.kind == forbidden_when) {
    rec.Error(field, "value must be null");
    return ref;
  }
  if (v->IsMap()) {
    // Kong's foreign-key form: {id: ...}; {name: ...} is accepted too.
    Record obj(rec.diag(), *v, ref.where);
    const char* key = obj.Has("id") ? "id" : "name";
    if (auto value = obj.String(key)) {
      ref.present = true;
      ref.value = *value;
      ref.shown = nlohmann::json{{key, *value}}.dump();
    } else if (!obj.Has(key)) {
      obj.Missing("id");
    }
    obj.Finish();
    return ref;
  }
  if (auto value = ReadString(rec.diag(), *v, ref.where)) {
    ref.present = true;
    ref.value = *value;
    ref.shown = *value;
  }
  return ref;
}

bool ReadId(Record& rec, std::string* id, YAML::Mark* mark) {
  *mark = rec.ValueMark("id");
  auto value = rec.String("id");
  if (!value) {
    return false;
  }
  if (!IsUuid(*value)) {
    rec.Error("id", "expected a valid UUID");
    return false;
  }
  *id = std::move(*value);
  return true;
}

void ParseService(Diagnostics& diag, Document& doc, const YAML::Node& node,
                  const std::string& where) {
  Record rec(diag, node, where);
  PendingService ps;
  ps.where = where;
  Service& s = ps.value;
  s.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  ps.id_given = ReadId(rec, &s.id, &ps.id_mark);
  ReadName(rec, "name", &s.name, &ps.name_mark);

  if (const YAML::Node* url_node = rec.Take("url")) {
    std::string url_where = Field(where, "url");
    for (absl::string_view key : {"protocol", "host", "port", "path"}) {
      if (rec.Take(key) != nullptr) {
        rec.Error(key, "cannot be set together with 'url'");
      }
    }
    ParsedUrl url;
    std::string error;
    if (auto text = ReadString(diag, *url_node, url_where)) {
      if (!ParseUrl(*text, &url, &error)) {
        diag.Add(url_node->Mark(), url_where, error);
      } else {
        // kong/db/schema/entities/services.lua, the `url` shorthand.
        s.protocol = url.scheme ? *url.scheme : url.port == 443 ? "https" : "http";
        s.port = url.port ? *url.port : s.protocol == "https" ? 443 : 80;
        s.host = url.host;
        s.path = url.path;
        auto invalid = [&](const std::string& err) {
          diag.Add(url_node->Mark(), url_where, absl::StrCat("invalid url '", *text, "': ", err));
        };
        if (auto err = CheckProtocol(s.protocol)) {
          invalid(*err);
        }
        if (auto err = CheckHost(s.host)) {
          invalid(*err);
        }
        if (s.path) {
          if (auto err = CheckPath(*s.path)) {
            invalid(*err);
          }
        }
      }
    }
  } else {
    if (auto protocol = rec.String("protocol")) {
      if (auto err = CheckProtocol(*protocol)) {
        rec.Error("protocol", *err);
      } else {
        s.protocol = *protocol;
      }
    }
    if (!rec.Has("host")) {
      rec.Missing("host");
    }
    if (auto host = rec.String("host")) {
      if (auto err = CheckHost(*host)) {
        rec.Error("host", *err);
      } else {
        s.host = *host;
      }
    }
    if (auto port = rec.Integer("port", 0, 65535)) {
      s.port = static_cast<int>(*port);
    }
    if (auto path = rec.String("path")) {
      if (auto err = CheckPath(*path)) {
        rec.Error("path", *err);
      } else {
        s.path = *path;
      }
    }
  }
  if (auto v = rec.Integer("retries", 0, 32767)) {
    s.retries = static_cast<int>(*v);
  }
  if (auto v = rec.Integer("connect_timeout", 1, kMaxTimeout)) {
    s.connect_timeout_ms = static_cast<int>(*v);
  }
  if (auto v = rec.Integer("write_timeout", 1, kMaxTimeout)) {
    s.write_timeout_ms = static_cast<int>(*v);
  }
  if (auto v = rec.Integer("read_timeout", 1, kMaxTimeout)) {
    s.read_timeout_ms = static_cast<int>(*v);
  }
  if (auto v = rec.Bool("enabled")) {
    s.enabled = *v;
  }
  if (auto v = rec.Tags()) {
    s.tags = std::move(*v);
  }
  RejectUnsupported(rec,
                    {"client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"});

  if (!ps.id_given) {
    s.id = KongEntityId("services", s.name.empty() ? where : s.name);
  }
  Parent self{Parent::Kind::kService, static_cast<int>(doc.services.size()), s.id, where};
  doc.services.push_back(std::move(ps));

  if (const YAML::Node* routes = rec.Take("routes")) {
    ForEachRecord(
        diag, *routes, Field(where, "routes"),
        [&](const YAML::Node& n, const std::string& w) { ParseRoute(diag, doc, n, w, self); });
  }
  if (const YAML::Node* plugins = rec.Take("plugins")) {
    ForEachRecord(
        diag, *plugins, Field(where, "plugins"),
        [&](const YAML::Node& n, const std::string& w) { ParsePlugin(diag, doc, n, w, self); });
  }
  rec.Finish();
}

void ParseRoute(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                const Parent& parent) {
  Record rec(diag, node, where);
  PendingRoute pr;
  pr.where = where;
  Route& r = pr.value;
  r.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pr.id_given = ReadId(rec, &r.id, &pr.id_mark);
  ReadName(rec, "name", &r.name, &pr.name_mark);

  bool protocols_ok = true;
  if (const YAML::Node* v = rec.Take("protocols")) {
    std::vector<std::string> protocols;
    protocols_ok = ForEachElement(diag, *v, Field(where, "protocols"), /*set=*/true,
                                  [&](const YAML::Node& element, const std::string& w) {
                                    auto p = ReadString(diag, element, w);
                                    if (!p) {
                                      protocols_ok = false;
                                    } else if (auto err = CheckProtocol(*p)) {
                                      diag.Add(element.Mark(), w, *err);
                                      protocols_ok = false;
                                    } else {
                                      protocols.push_back(std::move(*p));
                                    }
                                  }) &&
                   protocols_ok;
    if (protocols_ok && protocols.empty()) {
      rec.Error("protocols", "length must be at least 1");
      protocols_ok = false;
    }
    if (protocols_ok) {
      r.protocols = std::move(protocols);
    }
  }

  // The "must set one of" rule looks at what was written, valid or not (Kong's is_nonempty).
  bool has_matcher = rec.NonEmpty("methods") || rec.NonEmpty("hosts") || rec.NonEmpty("headers") ||
                     rec.NonEmpty("paths");
  bool has_snis = rec.NonEmpty("snis");

  if (const YAML::Node* v = rec.Take("methods")) {
    ForEachElement(diag, *v, Field(where, "methods"), /*set=*/true,
                   [&](const YAML::Node& element, const std::string& w) {
                     auto m = ReadString(diag, element, w);
                     if (!m) {
                       return;
                     }
                     bool upper = !m->empty();
                     for (char c : *m) {
                       upper = upper && c >= 'A' && c <= 'Z';
                     }
                     if (!upper) {
                       diag.Add(element.Mark(), w, absl::StrCat("invalid value: ", *m));
                       return;
                     }
                     r.methods.push_back(std::move(*m));
                   });
  }
  if (const YAML::Node* v = rec.Take("hosts")) {
    ForEachElement(diag, *v, Field(where, "hosts"), /*set=*/false,
                   [&](const YAML::Node& element, const std::string& w) {
                     auto h = ReadString(diag, element, w);
                     if (!h) {
                       return;
                     }
                     if (auto err = CheckRouteHost(*h)) {
                       diag.Add(element.Mark(), w, *err);
                       return;
                     }
                     r.hosts.push_back(std::move(*h));
                   });
  }
  ReadPaths(rec, doc.legacy_paths, &r);
  ReadHeaders(rec, &r);
  if (const YAML::Node* v = rec.Take("https_redirect_status_code")) {
    std::string w = Field(where, "https_redirect_status_code");
    if (auto code = ReadInteger(diag, *v, w, std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max())) {
      if (*code != 426 && *code != 301 && *code != 302 && *code != 307 && *code != 308) {
        diag.Add(v->Mark(), w, "expected one of: 426, 301, 302, 307, 308");
      } else {
        r.https_redirect_status_code = static_cast<int>(*code);
      }
    }
  }
  if (auto v = rec.Integer("regex_priority", std::numeric_limits<int32_t>::min(),
                           std::numeric_limits<int32_t>::max())) {
    r.regex_priority = static_cast<int>(*v);
  }
  if (auto v = rec.Bool("strip_path")) {
    r.strip_path = *v;
  }
  if (auto v = rec.Bool("preserve_host")) {
    r.preserve_host = *v;
  }
  if (auto v = rec.Bool("request_buffering")) {
    r.request_buffering = *v;
  }
  if (auto v = rec.Bool("response_buffering")) {
    r.response_buffering = *v;
  }
  if (auto v = rec.OneOf("path_handling", {"v0", "v1"})) {
    r.path_handling = *v;
  }
  if (auto v = rec.Tags()) {
    r.tags = std::move(*v);
  }
  if (const YAML::Node* v = rec.Take("snis")) {
    if (!v->IsSequence()) {
      rec.Error("snis", "expected a set");
    } else if (v->size() > 0) {
      rec.Error("snis", "not supported yet");
    }
  }
  for (absl::string_view key : {"sources", "destinations"}) {
    if (const YAML::Node* v = rec.Take(key); v != nullptr && !(v->IsSequence() && v->size() == 0)) {
      rec.Error(key, absl::StrCat("cannot set '", key, "' when 'protocols' is 'http' or 'https'"));
    }
  }
  pr.service = ReadRef(rec, "service", parent, Parent::Kind::kService);
  if (parent.kind == Parent::Kind::kService) {
    r.service = parent.index;
  }

  if (protocols_ok) {
    bool https = std::find(r.protocols.begin(), r.protocols.end(), "https") != r.protocols.end();
    if (https && !has_matcher && !has_snis) {
      diag.Add(node.Mark(), where,
               "must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when 'protocols' "
               "is 'https'");
    } else if (!https && !has_matcher) {
      diag.Add(node.Mark(), where,
               "must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is "
               "'http'");
    }
  }

  // A route without a name has a random id in Kong; sluice derives one from its position so
  // that ids (and the counters keyed by them) survive a reload of the same file.
  if (!pr.id_given) {
    r.id = KongEntityId("routes", r.name.empty() ? where : r.name);
  }
  Parent self{Parent::Kind::kRoute, static_cast<int>(doc.routes.size()), r.id, where};
  doc.routes.push_back(std::move(pr));

  if (const YAML::Node* plugins = rec.Take("plugins")) {
    ForEachRecord(
        diag, *plugins, Field(where, "plugins"),
        [&](const YAML::Node& n, const std::string& w) { ParsePlugin(diag, doc, n, w, self); });
  }
  rec.Finish();
}

}  // namespace sluice::config::internal

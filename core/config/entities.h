// SPDX-License-Identifier: Apache-2.0
// The loader's working model: entities parsed from the file but with their references
// (`service: orders`) still as written, plus the per-entity parsers (parse_service.cc: services,
// routes and the shared helpers; parse_plugin.cc: plugins, consumers, jwt_secrets;
// parse_upstream.cc: upstreams, targets). loader.cc resolves the references, checks uniqueness
// and builds the Config. Internal to core/config.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/config/config.h"
#include "core/config/yaml_reader.h"

namespace sluice::config::internal {

// A top-level reference such as `service: orders` (or Kong's `service: {id: ...}` form).
struct Ref {
  bool present = false;
  std::string field;  // "service", "route", "consumer", "upstream"
  std::string value;  // the name or id written
  std::string shown;  // how the message quotes it: the string, or the object as JSON
  std::string where;  // e.g. "routes[2].service"
  YAML::Mark mark;    // the value's position
};

// The entity a nested record sits in.
struct Parent {
  enum class Kind { kNone, kService, kRoute, kConsumer, kUpstream };
  Kind kind = Kind::kNone;
  int index = -1;
  std::string id;     // the parent's id (given or derived)
  std::string where;  // e.g. "services[0]"
};

struct PendingService {
  Service value;
  std::string where;
  YAML::Mark name_mark;
  YAML::Mark id_mark;
  bool id_given = false;
};

struct PendingRoute {
  Route value;
  std::string where;
  YAML::Mark name_mark;
  YAML::Mark id_mark;
  bool id_given = false;
  Ref service;  // top-level routes only
};

struct PendingPlugin {
  Plugin value;
  std::string where;
  YAML::Mark name_mark;
  YAML::Mark instance_name_mark;
  YAML::Mark id_mark;
  bool id_given = false;
  Parent parent;
  Ref route, service, consumer;
};

struct PendingConsumer {
  Consumer value;
  std::string where;
  YAML::Mark username_mark, custom_id_mark, id_mark;
  bool id_given = false;
};

struct PendingJwtSecret {
  JwtSecret value;
  std::string where;
  YAML::Mark key_mark, id_mark;
  bool id_given = false;
  bool key_given = false;
  Parent parent;
  Ref consumer;  // top-level jwt_secrets only
};

struct PendingUpstream {
  Upstream value;
  std::string where;
  YAML::Mark name_mark, id_mark;
  bool id_given = false;
};

struct PendingTarget {
  Target value;
  std::string id;  // Target has no id field; kept for the uniqueness check
  std::string where;
  YAML::Mark target_mark, id_mark;
  bool id_given = false;
  Parent parent;
  Ref upstream;  // top-level targets only
};

// Everything parsed from one file, in the order the Config will hold it.
struct Document {
  bool legacy_paths = false;    // "1.1"/"2.1": migrate route paths
  size_t json_budget = 100000;  // values all plugin configs together may hold (see ToJson)
  std::vector<PendingService> services;
  std::vector<PendingRoute> routes;
  std::vector<PendingPlugin> plugins;
  std::vector<PendingConsumer> consumers;
  std::vector<PendingJwtSecret> jwt_secrets;
  std::vector<PendingUpstream> upstreams;
  std::vector<PendingTarget> targets;
};

// Calls `fn(element, "<where>[i]")` for each map element of an array-valued field; reports
// `expected an array` / `expected a record`.
void ForEachRecord(Diagnostics& diag, const YAML::Node& node, const std::string& where,
                   const std::function<void(const YAML::Node&, const std::string&)>& fn);

// Reads a reference field of a top-level record (or the extra scope keys of a nested plugin).
// A nested record naming its own parent's field gets `value must be null`.
Ref ReadRef(Record& rec, absl::string_view field, const Parent& parent,
            Parent::Kind forbidden_when);

// Reads `id`: a UUID (error `expected a valid UUID`); returns true when given.
bool ReadId(Record& rec, std::string* id, YAML::Mark* mark);

// The per-entity parsers append to `doc` (nested children right after their parent) and report
// every problem to `diag`. `node` is one element of the entity array; `where` its path.
void ParseService(Diagnostics& diag, Document& doc, const YAML::Node& node,
                  const std::string& where);
void ParseRoute(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                const Parent& parent);
void ParsePlugin(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                 const Parent& parent);
void ParseConsumer(Diagnostics& diag, Document& doc, const YAML::Node& node,
                   const std::string& where);
void ParseJwtSecret(Diagnostics& diag, Document& doc, const YAML::Node& node,
                    const std::string& where, const Parent& parent);
void ParseUpstream(Diagnostics& diag, Document& doc, const YAML::Node& node,
                   const std::string& where);
void ParseTarget(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                 const Parent& parent);

}  // namespace sluice::config::internal

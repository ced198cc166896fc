// SPDX-License-Identifier: Apache-2.0
// The cors config (Kong's schema, reference/kong.md §6.1): parsed and validated once from the
// plugin's `config:` JSON into an immutable Config that every worker reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "origin.h"

namespace sluice::filters::cors {

// Kong's default `methods`, in its order.
inline constexpr const char* kDefaultMethods[] = {"GET",    "HEAD",    "PUT",   "PATCH",  "POST",
                                                  "DELETE", "OPTIONS", "TRACE", "CONNECT"};

struct Config {
  // `origins` as written; nullopt when absent (Kong's null: allow every origin).
  std::optional<std::vector<std::string>> origins;
  std::optional<std::vector<std::string>> headers;  // null: mirror Access-Control-Request-Headers
  std::vector<std::string> exposed_headers;
  std::vector<std::string> methods;  // defaults to kDefaultMethods
  std::optional<double> max_age;     // seconds; null: no Access-Control-Max-Age
  bool credentials = false;
  bool private_network = false;
  bool preflight_continue = false;
  bool allow_origin_absent = true;

  // Derived once from the fields above, so requests never re-parse them.
  OriginPolicy origin_policy;
  std::string allow_headers_value;   // `headers` joined with ","; empty when none configured
  std::string allow_methods_value;   // `methods` joined with ","
  std::string expose_headers_value;  // `exposed_headers` joined with ","
  std::string max_age_value;         // max_age as Lua's tostring prints it
};

// Parses the `config:` JSON text. Throws sluice::ConfigError("config.<path>: <what>").
Config ParseConfig(std::string_view json);

// A number as Lua's tostring prints it ("%.14g": 3600 -> "3600", 1.5 -> "1.5").
std::string LuaNumber(double value);

}  // namespace sluice::filters::cors

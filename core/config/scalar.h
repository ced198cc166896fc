// SPDX-License-Identifier: Apache-2.0
// What YAML values mean to the loader: scalar resolution under the YAML 1.2 core schema, and the
// conversion of a subtree (a plugin's `config:`) to JSON with per-field marks. Internal to
// core/config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "core/config/config.h"
#include "core/config/yaml_reader.h"

namespace sluice::config::internal {

// What a scalar means under the YAML 1.2 core schema. Plain scalars are resolved (`100` is an
// integer, `true` a boolean, `~`/`null`/empty null); quoted and block scalars and `!!str` are
// strings; `!!int`, `!!float`, `!!bool`, `!!null` force that type.
struct Scalar {
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kInvalid };
  Kind kind = Kind::kNull;
  bool boolean = false;
  int64_t integer = 0;  // kInt that fits in int64
  double number = 0;    // kFloat, and kInt too large for int64 (big_int)
  bool big_int = false;
  std::string error;  // kInvalid: why
};

// Resolves a Null or Scalar node (anything else is kInvalid).
Scalar Resolve(const YAML::Node& node);

// Converts a YAML subtree to JSON, resolving scalars as Resolve() does, and records the mark of
// every node's value under its path (`config`, `config.minute`, `config.add.headers[0]`) in
// `marks`. Infinite/NaN numbers and unsupported tags are errors, reported at
// `<where>.<path>`. `budget` is decremented per node; at zero the conversion stops with
// `too many values` (aliases can make a small file expand exponentially). Returns false on any
// error.
bool ToJson(Diagnostics& diag, const YAML::Node& node, const std::string& where,
            const std::string& path, nlohmann::ordered_json* out,
            std::map<std::string, Mark>* marks, size_t* budget);

}  // namespace sluice::config::internal

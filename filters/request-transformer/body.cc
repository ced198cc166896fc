// SPDX-License-Identifier: Apache-2.0
// Body transforms; see body.h.
#include "body.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "args.h"
#include "transform.h"

namespace sluice::filters::request_transformer {
namespace {

using Json = nlohmann::ordered_json;

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// Lua truthiness of a decoded JSON member: present and not `false` (JSON null is cjson.null,
// which Lua treats as true).
bool Truthy(const Json& object, const std::string& key) {
  auto it = object.find(key);
  return it != object.end() && !(it->is_boolean() && !it->get<bool>());
}

std::optional<std::string> TransformJson(const Config& c, std::string_view body,
                                         const TemplateSource& source) {
  Json params = Json::object();
  if (!body.empty()) {
    params = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    // Kong leaves an invalid body alone; sluice also leaves arrays and scalars, which Kong's
    // key operations would mangle or fail on.
    if (params.is_discarded() || !params.is_object())
      return std::nullopt;
  }
  bool changed = false;
  // remove, rename and replace need a body; add and append also build one from nothing.
  if (!body.empty()) {
    for (const Entry& e : c.remove.body) {
      params.erase(e.name);
      changed = true;
    }
    for (const Entry& e : c.rename.body) {
      const std::string to = EntryValue(e, source);
      if (e.name == to || !Truthy(params, e.name))
        continue;
      Json value = std::move(params[e.name]);
      params.erase(e.name);
      params[to] = std::move(value);
      changed = true;
    }
    for (const Entry& e : c.replace.body) {
      if (Truthy(params, e.name)) {
        params[e.name] = EntryValue(e, source);
        changed = true;
      }
    }
  }
  for (const Entry& e : c.add.body) {
    if (!Truthy(params, e.name)) {
      params[e.name] = EntryValue(e, source);
      changed = true;
    }
  }
  for (const Entry& e : c.append.body) {
    std::string value = EntryValue(e, source);
    auto it = params.find(e.name);
    if (it != params.end() && it->is_string()) {
      *it = Json::array({std::move(*it), std::move(value)});
    } else if (it != params.end() && it->is_array()) {
      it->push_back(std::move(value));
    } else {
      // Kong's append_value turns anything else (absent, number, boolean, null) into a list
      // of the new value alone; for an object it would mix in a key "1" (see README.md).
      params[e.name] = Json::array({std::move(value)});
    }
    changed = true;
  }
  if (!changed)
    return std::nullopt;
  // Template values may carry bytes that are not UTF-8; replace them rather than fail.
  return params.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::string> TransformForm(const Config& c, std::string_view body,
                                         const TemplateSource& source) {
  Args params = Args::Decode(body);
  bool changed = false;
  if (!body.empty()) {
    for (const Entry& e : c.remove.body) {
      params.Remove(e.name);
      changed = true;
    }
    for (const Entry& e : c.rename.body)
      changed = params.Rename(e.name, EntryValue(e, source)) || changed;
    for (const Entry& e : c.replace.body)
      changed = params.Replace(e.name, EntryValue(e, source)) || changed;
  }
  for (const Entry& e : c.add.body)
    changed = params.Add(e.name, EntryValue(e, source)) || changed;
  for (const Entry& e : c.append.body) {
    params.Append(e.name, EntryValue(e, source));
    changed = true;
  }
  if (!changed)
    return std::nullopt;
  return params.EncodeInOrder();
}

}  // namespace

BodyKind ClassifyContentType(std::optional<std::string_view> content_type) {
  if (!content_type)
    return BodyKind::kOther;
  if (ContainsNoCase(*content_type, "application/json"))
    return BodyKind::kJson;
  if (ContainsNoCase(*content_type, "multipart/form-data"))
    return BodyKind::kMultipart;
  if (ContainsNoCase(*content_type, "application/x-www-form-urlencoded"))
    return BodyKind::kForm;
  return BodyKind::kOther;
}

std::optional<std::string> TransformBody(const Config& config, BodyKind kind, std::string_view body,
                                         const TemplateSource& source) {
  if (!config.has_body_ops)
    return std::nullopt;
  switch (kind) {
    case BodyKind::kJson:
      return TransformJson(config, body, source);
    case BodyKind::kForm:
      return TransformForm(config, body, source);
    case BodyKind::kMultipart:  // not supported yet: passed through (README.md)
    case BodyKind::kOther:
      break;
  }
  return std::nullopt;
}

}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// cors config parsing and validation; see schema.h.
#include "schema.h"

#include <cstdio>
#include <utility>

#include <sluice/json.hpp>

namespace sluice::filters::cors {
namespace {

using sluice::json::Value;

// An array of strings that may be sent in a header.
std::vector<std::string> Strings(const Value& array) {
  std::vector<std::string> out;
  for (const Value& v : array.Array()) {
    const std::string& s = v.String();
    // Every list ends up in a response header, which cannot carry control characters.
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        v.Fail("must not contain control characters");
    }
    out.push_back(s);
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    out.append(items[i]);
  }
  return out;
}

bool OptionalBool(const Value& root, std::string_view key, bool fallback) {
  const Value* v = root.Find(key);
  return v == nullptr ? fallback : v->Bool();
}

}  // namespace

std::string LuaNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.14g", value);
  return buf;
}

Config ParseConfig(std::string_view json) {
  const Value root = sluice::json::Parse(json);
  root.AllowOnly({"origins", "headers", "exposed_headers", "methods", "max_age", "credentials",
                  "private_network", "preflight_continue", "allow_origin_absent"});
  Config c;
  if (const Value* v = root.Find("origins")) {
    c.origins = Strings(*v);
    for (size_t i = 0; i < c.origins->size(); ++i) {
      // Kong accepts "" and then fails every request that has an Origin; refuse it up front.
      if ((*c.origins)[i].empty())
        v->Array()[i].Fail("must not be empty");
    }
    size_t bad = 0;
    if (auto error = OriginPolicy::Build(c.origins, &c.origin_policy, &bad))
      v->Array()[bad].Fail(*error);
  }
  if (const Value* v = root.Find("headers"))
    c.headers = Strings(*v);
  if (const Value* v = root.Find("exposed_headers"))
    c.exposed_headers = Strings(*v);
  if (const Value* v = root.Find("methods")) {
    for (const Value& m : v->Array()) {
      bool known = false;
      for (const char* allowed : kDefaultMethods)
        known = known || m.String() == allowed;
      if (!known)
        m.Fail("expected one of: GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT");
      c.methods.push_back(m.String());
    }
  } else {
    c.methods.assign(std::begin(kDefaultMethods), std::end(kDefaultMethods));
  }
  if (const Value* v = root.Find("max_age"))
    c.max_age = v->Number();
  c.credentials = OptionalBool(root, "credentials", false);
  c.private_network = OptionalBool(root, "private_network", false);
  c.preflight_continue = OptionalBool(root, "preflight_continue", false);
  c.allow_origin_absent = OptionalBool(root, "allow_origin_absent", true);

  if (c.headers)
    c.allow_headers_value = Join(*c.headers);
  c.allow_methods_value = Join(c.methods);
  c.expose_headers_value = Join(c.exposed_headers);
  if (c.max_age)
    c.max_age_value = LuaNumber(*c.max_age);
  return c;
}

}  // namespace sluice::filters::cors

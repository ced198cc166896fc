// SPDX-License-Identifier: Apache-2.0
// The request-transformer config (Kong's schema, reference/kong.md §7.1): parsed and validated
// once into an immutable Config. Entries are "name:value" split at the first ':' (Kong's
// "^([^:]+):*(.-)$", so extra colons right after the name are dropped too).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "template.h"

namespace sluice::filters::request_transformer {

struct Entry {
  std::string name;
  std::string value;             // "" for remove entries and "name:" entries
  std::optional<Template> tmpl;  // set when `value` holds a $(...) expression
};

// One operation's lists.
struct Lists {
  std::vector<Entry> body;
  std::vector<Entry> headers;
  std::vector<Entry> querystring;
};

struct Config {
  std::optional<std::string> http_method;
  Lists remove;
  Lists rename;
  Lists replace;
  Lists add;
  Lists append;
  std::optional<std::string> replace_uri;
  std::optional<Template> uri_template;

  // Derived once, so requests do no work for parts that are not configured.
  bool has_header_ops = false;
  bool has_query_ops = false;
  bool has_body_ops = false;
  bool body_templates = false;  // some body value is a template (the body hook renders it)
  bool templates_read_headers = false;
  bool templates_read_query = false;
  std::vector<std::string> template_headers;   // normalised names the templates read
  std::vector<std::string> template_captures;  // uri_captures names / numbers they read
};

// Parses the `config:` JSON text. Throws sluice::ConfigError("config.<path>: <what>").
Config ParseConfig(std::string_view json);

// Kong's validate_header_name: ^[A-Za-z0-9_-]+$.
bool IsValidHeaderName(std::string_view name);

}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// request-transformer's operations on the request head (reference/kong.md §7.2): replace.uri,
// headers (remove, rename, replace, add, append) and querystring (the same five). Pure: the
// header map is an interface the handler implements over the SDK and the tests over a list.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.h"
#include "schema.h"
#include "template.h"

namespace sluice::filters::request_transformer {

// The request header map the transform edits. Names compare case-insensitively.
class HeaderStore {
 public:
  virtual ~HeaderStore() = default;
  virtual bool Has(std::string_view name) const = 0;
  virtual std::vector<std::string> Values(std::string_view name) const = 0;
  virtual void Set(std::string_view name, std::string_view value) = 0;  // replaces every field
  virtual void Add(std::string_view name, std::string_view value) = 0;  // appends a field
  virtual void Remove(std::string_view name) = 0;
};

// What templates read: the request as it reached this filter, before any operation (Kong loads
// its template environment lazily; sluice takes it up front, see README.md).
class RequestSnapshot : public TemplateSource {
 public:
  // `headers`: the values of the header names the config's templates read (normalised
  // names; several fields of one name are joined with ", "). `query`: the raw query.
  // `captures`: the uri_captures the templates read, by key.
  RequestSnapshot(std::vector<std::pair<std::string, std::optional<std::string>>> headers,
                  std::string_view query,
                  std::vector<std::pair<std::string, std::optional<std::string>>> captures = {});

  std::optional<std::string> Header(std::string_view name) const override;
  // A flag renders as "true" and a repeated parameter as its first value.
  std::optional<std::string> QueryParam(std::string_view name) const override;
  std::optional<std::string> UriCapture(std::string_view name) const override;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> headers_;
  Args query_;
  std::vector<std::pair<std::string, std::optional<std::string>>> captures_;
};

// The value of `entry` for this request: its template rendered, or its text.
std::string EntryValue(const Entry& entry, const TemplateSource& source);

// replace.uri rendered and escaped for upstream_path_set; nullopt when not configured.
std::optional<std::string> TransformUri(const Config& config, const TemplateSource& source);

// Percent-encodes what a path may not carry (controls, space, '?', '#', '%' not starting an
// escape, bytes >= 0x7f), like Kong's set_path escaping.
std::string EscapePath(std::string_view path);

// Headers: remove, rename, replace, add, append (Kong's transform_headers).
void TransformHeaders(const Config& config, const TemplateSource& source, HeaderStore* headers);

// Querystring: the new raw query, or nullopt when no querystring operation is configured.
std::optional<std::string> TransformQuery(const Config& config, std::string_view raw_query,
                                          const TemplateSource& source);

}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// Head transforms; see transform.h.
#include "transform.h"

#include <strings.h>
#include <utility>

namespace sluice::filters::request_transformer {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Kong drops `host` from the table it transforms, so only replace (and rename to host) reach it.
bool IsHost(std::string_view name) { return SameName(name, "host"); }

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

RequestSnapshot::RequestSnapshot(
    std::vector<std::pair<std::string, std::optional<std::string>>> headers, std::string_view query,
    std::vector<std::pair<std::string, std::optional<std::string>>> captures)
    : headers_(std::move(headers)), query_(Args::Decode(query)), captures_(std::move(captures)) {}

std::optional<std::string> RequestSnapshot::Header(std::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (n == name)
      return v;
  }
  return std::nullopt;
}

std::optional<std::string> RequestSnapshot::QueryParam(std::string_view name) const {
  const Arg* a = query_.Find(name);
  if (a == nullptr || a->values.empty())
    return std::nullopt;
  return a->values[0] ? *a->values[0] : std::string("true");
}

std::optional<std::string> RequestSnapshot::UriCapture(std::string_view name) const {
  for (const auto& [n, v] : captures_) {
    if (n == name)
      return v;
  }
  return std::nullopt;
}

std::string EntryValue(const Entry& entry, const TemplateSource& source) {
  return entry.tmpl ? entry.tmpl->Render(source) : entry.value;
}

std::string EscapePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    const auto b = static_cast<unsigned char>(path[i]);
    const bool escape_start =
        path[i] == '%' && i + 2 < path.size() && IsHex(path[i + 1]) && IsHex(path[i + 2]);
    const bool keep = b > 0x20 && b < 0x7f && path[i] != '?' && path[i] != '#' &&
                      (path[i] != '%' || escape_start);
    if (keep) {
      out.push_back(path[i]);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> TransformUri(const Config& config, const TemplateSource& source) {
  if (!config.replace_uri)
    return std::nullopt;
  return EscapePath(config.uri_template ? config.uri_template->Render(source)
                                        : *config.replace_uri);
}

void TransformHeaders(const Config& config, const TemplateSource& source, HeaderStore* headers) {
  for (const Entry& e : config.remove.headers) {
    if (!IsHost(e.name) && headers->Has(e.name))
      headers->Remove(e.name);
  }
  for (const Entry& e : config.rename.headers) {
    const std::string& to = e.value;  // header names: never a template
    if (IsHost(e.name) || e.name == to || !headers->Has(e.name))
      continue;
    std::vector<std::string> values = headers->Values(e.name);
    headers->Remove(e.name);
    if (!SameName(e.name, to))
      headers->Remove(to);  // Kong overwrites the target's value
    for (const std::string& v : values)
      headers->Add(to, v);
  }
  // An entry written "name:" has no value: Kong assigns nil, which changes nothing.
  for (const Entry& e : config.replace.headers) {
    if (!e.value.empty() && (IsHost(e.name) || headers->Has(e.name)))
      headers->Set(e.name, EntryValue(e, source));
  }
  for (const Entry& e : config.add.headers) {
    if (!e.value.empty() && !IsHost(e.name) && !headers->Has(e.name))
      headers->Set(e.name, EntryValue(e, source));
  }
  for (const Entry& e : config.append.headers) {
    if (e.value.empty())
      continue;
    // Kong would hand a one-element list to the upstream Host and fail; sluice sets it.
    if (IsHost(e.name)) {
      headers->Set(e.name, EntryValue(e, source));
    } else {
      headers->Add(e.name, EntryValue(e, source));
    }
  }
}

std::optional<std::string> TransformQuery(const Config& config, std::string_view raw_query,
                                          const TemplateSource& source) {
  if (!config.has_query_ops)
    return std::nullopt;
  Args q = Args::Decode(raw_query);
  for (const Entry& e : config.remove.querystring)
    q.Remove(e.name);
  for (const Entry& e : config.rename.querystring)
    q.Rename(e.name, EntryValue(e, source));
  for (const Entry& e : config.replace.querystring)
    q.Replace(e.name, EntryValue(e, source));
  for (const Entry& e : config.add.querystring)
    q.Add(e.name, EntryValue(e, source));
  for (const Entry& e : config.append.querystring)
    q.Append(e.name, EntryValue(e, source));
  return q.EncodeSorted();
}

}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// request-transformer config parsing and validation; see schema.h.
#include "schema.h"

#include <utility>

#include <sluice/json.hpp>

namespace sluice::filters::request_transformer {
namespace {

using sluice::json::Value;

// What an element of a list must look like (Kong uses one validator per kind of list).
enum class Rule {
  kRemoveHeader,  // a valid header name
  kRemoveName,    // any non-empty name
  kRenameHeader,  // "old:new", both valid header names
  kHeaderValue,   // "name:value", a valid name and a value without control characters
  kNameValue,     // "name:value" with a non-empty value (Kong's check_for_value)
};

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return true;
  }
  return false;
}

// Splits like Kong's "^([^:]+):*(.-)$"; false when the entry has no name before its ':'.
bool Split(const std::string& entry, Entry* out) {
  const size_t colon = entry.find(':');
  if (colon == 0 || entry.empty())
    return false;
  out->name = entry.substr(0, colon);
  if (colon == std::string::npos)
    return true;
  size_t v = colon;
  while (v < entry.size() && entry[v] == ':')
    ++v;
  out->value = entry.substr(v);
  return true;
}

void CompileTemplate(const Value& at, Entry* e) {
  std::string error;
  std::optional<Template> t = Template::Parse(e->value, &error);
  if (!t)
    at.Fail("value '" + e->value + "' is not in supported format, error: " + error);
  if (t->dynamic())
    e->tmpl = std::move(*t);
}

Entry ParseEntry(const Value& v, Rule rule) {
  const std::string& s = v.String();
  Entry e;
  const bool has_colon = s.find(':') != std::string::npos;
  switch (rule) {
    case Rule::kRemoveHeader:
      if (!Split(s, &e) || !IsValidHeaderName(e.name))
        v.Fail("'" + (e.name.empty() ? s : e.name) + "' is not a valid header");
      return e;
    case Rule::kRemoveName:
      if (!Split(s, &e))
        v.Fail("invalid value: '" + s + "'");
      return e;
    case Rule::kRenameHeader:
      if (!has_colon || !Split(s, &e))
        v.Fail("invalid value: " + s);
      if (!IsValidHeaderName(e.name))
        v.Fail("'" + e.name + "' is not a valid header");
      if (!IsValidHeaderName(e.value))
        v.Fail("'" + e.value + "' is not a valid header");
      return e;
    case Rule::kHeaderValue:
      if (!has_colon || !Split(s, &e))
        v.Fail("invalid value: " + s);
      if (!IsValidHeaderName(e.name))
        v.Fail("'" + e.name + "' is not a valid header");
      if (HasControl(e.value))
        v.Fail("'" + e.value + "' is not a valid header");
      CompileTemplate(v, &e);
      return e;
    case Rule::kNameValue:
      if (!Split(s, &e))
        v.Fail("invalid value: '" + s + "'");
      if (e.value.empty())
        v.Fail("key '" + e.name + "' has no value");
      CompileTemplate(v, &e);
      return e;
  }
  return e;
}

std::vector<Entry> ParseList(const Value* list, Rule rule) {
  std::vector<Entry> out;
  if (list == nullptr)
    return out;
  for (const Value& v : list->Array())
    out.push_back(ParseEntry(v, rule));
  return out;
}

Lists ParseLists(const Value& root, std::string_view key, Rule body, Rule headers, Rule query,
                 bool with_uri, Config* c) {
  Lists lists;
  const Value* v = root.Find(key);
  if (v == nullptr)
    return lists;
  if (with_uri) {
    v->AllowOnly({"body", "headers", "querystring", "uri"});
  } else {
    v->AllowOnly({"body", "headers", "querystring"});
  }
  lists.body = ParseList(v->Find("body"), body);
  lists.headers = ParseList(v->Find("headers"), headers);
  lists.querystring = ParseList(v->Find("querystring"), query);
  if (with_uri) {
    if (const Value* uri = v->Find("uri")) {
      Entry e;
      e.value = uri->String();
      if (HasControl(e.value))
        uri->Fail("must not contain control characters");
      CompileTemplate(*uri, &e);
      // Kong fails such a request with 500 at run time; a literal can be checked now.
      if (!e.tmpl && (e.value.empty() || e.value[0] != '/'))
        uri->Fail("must start with '/'");
      c->replace_uri = e.value;
      c->uri_template = std::move(e.tmpl);
    }
  }
  return lists;
}

void Derive(Config* c) {
  const Lists* all[] = {&c->remove, &c->rename, &c->replace, &c->add, &c->append};
  for (const Lists* l : all) {
    c->has_header_ops = c->has_header_ops || !l->headers.empty();
    c->has_query_ops = c->has_query_ops || !l->querystring.empty();
    c->has_body_ops = c->has_body_ops || !l->body.empty();
    for (const Entry& e : l->body)
      c->body_templates = c->body_templates || e.tmpl.has_value();
    for (const std::vector<Entry>* list : {&l->body, &l->headers, &l->querystring}) {
      for (const Entry& e : *list) {
        if (!e.tmpl)
          continue;
        e.tmpl->CollectHeaders(&c->template_headers);
        e.tmpl->CollectCaptures(&c->template_captures);
        c->templates_read_query =
            c->templates_read_query || e.tmpl->Uses(Template::Source::kQueryParam);
      }
    }
  }
  if (c->uri_template) {
    c->uri_template->CollectHeaders(&c->template_headers);
    c->uri_template->CollectCaptures(&c->template_captures);
    c->templates_read_query =
        c->templates_read_query || c->uri_template->Uses(Template::Source::kQueryParam);
  }
  c->templates_read_headers = !c->template_headers.empty();
}

}  // namespace

bool IsValidHeaderName(std::string_view name) {
  if (name.empty())
    return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok)
      return false;
  }
  return true;
}

Config ParseConfig(std::string_view json) {
  const Value root = sluice::json::Parse(json);
  root.AllowOnly({"http_method", "remove", "rename", "replace", "add", "append"});
  Config c;
  if (const Value* m = root.Find("http_method")) {
    const std::string& method = m->String();
    bool upper = !method.empty();
    for (char ch : method)
      upper = upper && ch >= 'A' && ch <= 'Z';
    if (!upper)
      m->Fail("invalid value: " + method);
    // A HEAD answer has no body, which the client's own method did not ask for.
    if (method == "HEAD")
      m->Fail("HEAD is not supported: the client would get a response without its body");
    c.http_method = method;
  }
  c.remove = ParseLists(root, "remove", Rule::kRemoveName, Rule::kRemoveHeader, Rule::kRemoveName,
                        false, &c);
  c.rename = ParseLists(root, "rename", Rule::kNameValue, Rule::kRenameHeader, Rule::kNameValue,
                        false, &c);
  c.replace =
      ParseLists(root, "replace", Rule::kNameValue, Rule::kHeaderValue, Rule::kNameValue, true, &c);
  c.add =
      ParseLists(root, "add", Rule::kNameValue, Rule::kHeaderValue, Rule::kNameValue, false, &c);
  c.append =
      ParseLists(root, "append", Rule::kNameValue, Rule::kHeaderValue, Rule::kNameValue, false, &c);
  Derive(&c);
  return c;
}

}  // namespace sluice::filters::request_transformer

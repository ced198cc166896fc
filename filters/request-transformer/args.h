// SPDX-License-Identifier: Apache-2.0
// URL-encoded arguments (query strings and application/x-www-form-urlencoded bodies) as Kong's
// request-transformer sees them: ngx.decode_args groups repeated names, a name without '='
// is the boolean flag `true`, and each name holds one value or a list. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters::request_transformer {

// One argument name and its values; nullopt is a bare flag (`?debug`).
struct Arg {
  std::string name;
  std::vector<std::optional<std::string>> values;
};

class Args {
 public:
  // ngx.decode_args: split at '&', decode '+' and %XX, group by name in first-seen order; parts
  // with an empty name are dropped.
  static Args Decode(std::string_view raw);

  // Kong's kong.service.request.set_query: each name encoded with its values, the encoded
  // pieces sorted, joined with '&'.
  std::string EncodeSorted() const;

  // ngx.encode_args over the names in their order (sluice keeps first-seen order, where Lua's
  // hash order is arbitrary).
  std::string EncodeInOrder() const;

  Arg* Find(std::string_view name);
  const Arg* Find(std::string_view name) const;

  // Kong's request-transformer operations on the decoded table.
  void Remove(std::string_view name);
  // Moves old's values to `to` (replacing it); false when `from` is absent or equal to `to`.
  bool Rename(std::string_view from, std::string_view to);
  // Sets `name` to one value when present; false when absent.
  bool Replace(std::string_view name, std::string_view value);
  // Sets `name` to one value when absent; false when present.
  bool Add(std::string_view name, std::string_view value);
  // Kong's append_value: a string becomes a list, a list grows, a flag or nothing becomes the
  // one new value.
  void Append(std::string_view name, std::string_view value);

  const std::vector<Arg>& items() const { return items_; }

  bool empty() const { return items_.empty(); }

 private:
  std::vector<Arg> items_;
};

// Percent-decodes `s` ('+' is a space; malformed escapes are kept as they are).
std::string UrlDecode(std::string_view s);

// Percent-encodes every byte except ALPHA / DIGIT / "-" / "." / "_" / "~".
std::string UrlEncode(std::string_view s);

}  // namespace sluice::filters::request_transformer

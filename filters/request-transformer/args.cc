// SPDX-License-Identifier: Apache-2.0
// URL-encoded arguments; see args.h.
#include "args.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace sluice::filters::request_transformer {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// "name=value&name" for one argument, as ngx.encode_args writes a name with a list.
std::string EncodeArg(const Arg& arg) {
  std::string out;
  const std::string name = UrlEncode(arg.name);
  for (const std::optional<std::string>& v : arg.values) {
    if (!out.empty())
      out.push_back('&');
    out.append(name);
    if (v) {
      out.push_back('=');
      out.append(UrlEncode(*v));
    }
  }
  return out;
}

}  // namespace

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

Args Args::Decode(std::string_view raw) {
  Args args;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (part.empty())
      continue;
    const size_t eq = part.find('=');
    std::string name = UrlDecode(part.substr(0, eq));
    if (name.empty())
      continue;
    std::optional<std::string> value;
    if (eq != std::string_view::npos)
      value = UrlDecode(part.substr(eq + 1));
    if (Arg* existing = args.Find(name)) {
      existing->values.push_back(std::move(value));
    } else {
      args.items_.push_back(Arg{std::move(name), {std::move(value)}});
    }
  }
  return args;
}

std::string Args::EncodeSorted() const {
  std::vector<std::string> pieces;
  pieces.reserve(items_.size());
  for (const Arg& a : items_)
    pieces.push_back(EncodeArg(a));
  std::sort(pieces.begin(), pieces.end());
  std::string out;
  for (const std::string& p : pieces) {
    if (p.empty())
      continue;
    if (!out.empty())
      out.push_back('&');
    out.append(p);
  }
  return out;
}

std::string Args::EncodeInOrder() const {
  std::string out;
  for (const Arg& a : items_) {
    std::string piece = EncodeArg(a);
    if (piece.empty())
      continue;
    if (!out.empty())
      out.push_back('&');
    out.append(piece);
  }
  return out;
}

Arg* Args::Find(std::string_view name) {
  for (Arg& a : items_) {
    if (a.name == name)
      return &a;
  }
  return nullptr;
}

const Arg* Args::Find(std::string_view name) const { return const_cast<Args*>(this)->Find(name); }

void Args::Remove(std::string_view name) {
  std::erase_if(items_, [name](const Arg& a) { return a.name == name; });
}

bool Args::Rename(std::string_view from, std::string_view to) {
  if (from == to)
    return false;
  size_t at = items_.size();
  for (size_t i = 0; i < items_.size(); ++i) {
    if (items_[i].name == from) {
      at = i;
      break;
    }
  }
  if (at == items_.size())
    return false;
  // The renamed argument keeps the old one's place; an existing `to` is replaced.
  items_[at].name = std::string(to);
  for (size_t i = items_.size(); i-- > 0;) {
    if (i != at && items_[i].name == to) {
      items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(i));
      if (i < at)
        --at;
    }
  }
  return true;
}

bool Args::Replace(std::string_view name, std::string_view value) {
  Arg* a = Find(name);
  if (a == nullptr)
    return false;
  a->values.assign(1, std::string(value));
  return true;
}

bool Args::Add(std::string_view name, std::string_view value) {
  if (Find(name) != nullptr)
    return false;
  items_.push_back(Arg{std::string(name), {std::string(value)}});
  return true;
}

void Args::Append(std::string_view name, std::string_view value) {
  Arg* a = Find(name);
  if (a == nullptr) {
    items_.push_back(Arg{std::string(name), {std::string(value)}});
    return;
  }
  if (a->values.size() == 1 && !a->values[0]) {
    a->values.assign(1, std::string(value));  // Lua: append_value(true, v) == {v}
    return;
  }
  a->values.push_back(std::string(value));
}

}  // namespace sluice::filters::request_transformer

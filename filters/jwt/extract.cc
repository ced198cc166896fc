// SPDX-License-Identifier: Apache-2.0
#include "extract.h"

#include <algorithm>

namespace sluice::filters::jwt {
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

// Invalid %XX sequences stay as they are, as nginx leaves them.
std::string UnescapeComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> QueryValues(std::string_view raw_query, std::string_view name) {
  std::vector<std::string> out;
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view pair = raw_query.substr(0, amp);
    raw_query = amp == raw_query.npos ? std::string_view() : raw_query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == pair.npos)
      continue;
    if (UnescapeComponent(pair.substr(0, eq)) == name)
      out.push_back(UnescapeComponent(pair.substr(eq + 1)));
  }
  return out;
}

std::optional<std::string_view> CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    size_t semi = cookie_header.find(';');
    std::string_view pair = Trim(cookie_header.substr(0, semi));
    cookie_header =
        semi == cookie_header.npos ? std::string_view() : cookie_header.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq != pair.npos && EqualsIgnoreCase(Trim(pair.substr(0, eq)), name))
      return Trim(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::optional<std::string_view> BearerToken(std::string_view v) {
  for (size_t pos = 0; pos + 6 < v.size(); ++pos) {
    if ((v[pos] != 'B' && v[pos] != 'b') || v.substr(pos + 1, 5) != "earer")
      continue;
    size_t start = pos + 6;
    if (!IsSpace(v[start]))
      continue;
    size_t end = start;
    while (end < v.size() && IsSpace(v[end]))
      ++end;
    if (end < v.size())
      return v.substr(end);
    // Only whitespace follows: the regex backtracks and captures the last of it, if \s+ can
    // keep at least one character.
    if (v.size() - start >= 2)
      return v.substr(v.size() - 1);
  }
  return std::nullopt;
}

void AddToken(std::vector<std::string>* tokens, std::string_view token) {
  if (token.empty())
    return;
  if (std::find(tokens->begin(), tokens->end(), token) == tokens->end())
    tokens->emplace_back(token);
}

}  // namespace sluice::filters::jwt

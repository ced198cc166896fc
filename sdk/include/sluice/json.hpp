// SPDX-License-Identifier: Apache-2.0
// A small strict JSON reader for filter configs (header-only, C++ standard library only), so a
// C++ filter needs no third-party parser. Every value remembers its field path ("config",
// "config.headers", "config.headers[2]") and every accessor throws sluice::ConfigError with
// "<path>: <what>" on a type mismatch, which is the message format the host maps to
// file:line:col. Config time only: it allocates freely.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/filter.hpp>

namespace sluice::json {

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, Value>;

  Type type() const noexcept { return type_; }

  const std::string& path() const noexcept { return path_; }

  bool IsNull() const noexcept { return type_ == Type::kNull; }

  bool Bool() const {
    Expect(Type::kBool, "a boolean");
    return bool_;
  }

  double Number() const {
    Expect(Type::kNumber, "a number");
    return number_;
  }

  // The value as an integer; throws for fractions and values outside int64_t.
  int64_t Integer() const {
    Expect(Type::kNumber, "an integer");
    if (!integral_)
      Fail("expected an integer");
    return integer_;
  }

  const std::string& String() const {
    Expect(Type::kString, "a string");
    return string_;
  }

  const std::vector<Value>& Array() const {
    Expect(Type::kArray, "an array");
    return array_;
  }

  const std::vector<Member>& Object() const {
    Expect(Type::kObject, "an object");
    return object_;
  }

  // The member `key` of an object, or nullptr when absent (or null).
  const Value* Find(std::string_view key) const {
    for (const Member& m : Object()) {
      if (m.first == key)
        return m.second.IsNull() ? nullptr : &m.second;
    }
    return nullptr;
  }

  // Throws "<path>.<key>: unknown field" for the first member not in `keys` (Kong's wording).
  void AllowOnly(std::initializer_list<std::string_view> keys) const {
    for (const Member& m : Object()) {
      bool known = false;
      for (std::string_view k : keys)
        known = known || k == m.first;
      if (!known)
        m.second.Fail("unknown field");
    }
  }

  // Throws ConfigError("<path>: <what>").
  [[noreturn]] void Fail(std::string_view what) const {
    throw ConfigError(path_ + ": " + std::string(what));
  }

 private:
  friend class Parser;

  void Expect(Type t, const char* what) const {
    if (type_ != t)
      Fail(std::string("expected ") + what);
  }

  Type type_ = Type::kNull;
  bool bool_ = false;
  bool integral_ = false;
  double number_ = 0;
  int64_t integer_ = 0;
  std::string string_;
  std::vector<Value> array_;
  std::vector<Member> object_;
  std::string path_;
};

class Parser {
 public:
  Parser(std::string_view text, std::string root) : s_(text), root_(std::move(root)) {}

  Value Run() {
    Value v = ParseValue(root_, 0);
    SkipSpace();
    if (i_ != s_.size())
      Error("unexpected text after the value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void Error(const std::string& what) const {
    throw ConfigError(root_ + ": invalid JSON at offset " + std::to_string(i_) + ": " + what);
  }

  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  bool Consume(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return false;
    i_ += word.size();
    return true;
  }

  Value ParseValue(const std::string& path, int depth) {
    if (depth > kMaxDepth)
      Error("nested too deeply");
    SkipSpace();
    Value v;
    v.path_ = path;
    if (i_ >= s_.size())
      Error("unexpected end");
    char c = s_[i_];
    if (c == '{') {
      v.type_ = Value::Type::kObject;
      ++i_;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        SkipSpace();
        if (i_ >= s_.size() || s_[i_] != '"')
          Error("expected a member name");
        std::string key = ParseString();
        for (const Value::Member& m : v.object_) {
          if (m.first == key)
            Error("duplicate member '" + key + "'");
        }
        SkipSpace();
        if (i_ >= s_.size() || s_[i_] != ':')
          Error("expected ':'");
        ++i_;
        Value child = ParseValue(path + "." + key, depth + 1);
        v.object_.emplace_back(std::move(key), std::move(child));
        SkipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          return v;
        }
        Error("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.type_ = Value::Type::kArray;
      ++i_;
      SkipSpace();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        std::string child_path = path + "[" + std::to_string(v.array_.size()) + "]";
        v.array_.push_back(ParseValue(child_path, depth + 1));
        SkipSpace();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          return v;
        }
        Error("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type_ = Value::Type::kString;
      v.string_ = ParseString();
      return v;
    }
    if (Consume("true")) {
      v.type_ = Value::Type::kBool;
      v.bool_ = true;
      return v;
    }
    if (Consume("false")) {
      v.type_ = Value::Type::kBool;
      return v;
    }
    if (Consume("null"))
      return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      ParseNumber(&v);
      return v;
    }
    Error("unexpected character");
  }

  void ParseNumber(Value* v) {
    size_t start = i_;
    bool integral = true;
    if (s_[i_] == '-')
      ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      if (i_ == d)
        Error("bad number");
    };
    digits();
    if (i_ < s_.size() && s_[i_] == '.') {
      integral = false;
      ++i_;
      digits();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integral = false;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      digits();
    }
    std::string text(s_.substr(start, i_ - start));
    v->type_ = Value::Type::kNumber;
    v->number_ = std::strtod(text.c_str(), nullptr);
    if (integral) {
      errno = 0;
      long long n = std::strtoll(text.c_str(), nullptr, 10);
      v->integral_ = errno == 0;
      v->integer_ = n;
    } else if (v->number_ == static_cast<double>(static_cast<int64_t>(v->number_)) &&
               v->number_ > -9.2e18 && v->number_ < 9.2e18) {
      v->integral_ = true;
      v->integer_ = static_cast<int64_t>(v->number_);
    }
  }

  unsigned Hex4() {
    if (i_ + 4 > s_.size())
      Error("bad \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      u <<= 4;
      if (h >= '0' && h <= '9') {
        u |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        u |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        u |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        Error("bad \\u escape");
      }
    }
    return u;
  }

  static void AppendUtf8(std::string* out, unsigned cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string ParseString() {
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (i_ >= s_.size())
        Error("unterminated string");
      char c = s_[i_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        Error("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size())
        Error("unterminated string");
      char e = s_[i_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = Hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!Consume("\\u"))
              Error("lone surrogate");
            unsigned lo = Hex4();
            if (lo < 0xDC00 || lo >= 0xE000)
              Error("lone surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            Error("lone surrogate");
          }
          AppendUtf8(&out, cp);
          break;
        }
        default:
          Error("bad escape");
      }
    }
  }

  std::string_view s_;
  std::string root_;
  size_t i_ = 0;
};

// Parses `text` (the config JSON the host hands over) into a Value whose path is `root`.
// Throws ConfigError on malformed JSON.
inline Value Parse(std::string_view text, std::string root = "config") {
  return Parser(text, std::move(root)).Run();
}

}  // namespace sluice::json

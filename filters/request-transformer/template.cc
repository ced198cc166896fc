// SPDX-License-Identifier: Apache-2.0
// Template parsing and rendering; see template.h.
#include "template.h"

#include <utility>

namespace sluice::filters::request_transformer {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A recursive-descent reader of one `$(...)` body.
class ExprParser {
 public:
  explicit ExprParser(std::string_view s) : s_(s) {}

  bool Run(std::vector<Template::Term>* terms) {
    for (;;) {
      Template::Term term;
      if (!ParseTerm(&term))
        return false;
      terms->push_back(std::move(term));
      SkipSpace();
      if (i_ == s_.size())
        return true;
      if (!Keyword("or"))
        return false;
    }
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_]))
      ++i_;
  }

  bool Keyword(std::string_view word) {
    SkipSpace();
    if (s_.substr(i_, word.size()) != word)
      return false;
    const size_t end = i_ + word.size();
    if (end < s_.size() && IsIdentChar(s_[end]))
      return false;
    i_ = end;
    return true;
  }

  std::optional<std::string> Identifier() {
    SkipSpace();
    if (i_ >= s_.size() || !IsIdentStart(s_[i_]))
      return std::nullopt;
    const size_t start = i_;
    while (i_ < s_.size() && IsIdentChar(s_[i_]))
      ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // A Lua short string: "..." or '...', with the common backslash escapes.
  std::optional<std::string> StringLiteral() {
    SkipSpace();
    if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\''))
      return std::nullopt;
    const char quote = s_[i_++];
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == quote)
        return out;
      if (c == '\n')
        return std::nullopt;
      if (c == '\\') {
        if (i_ >= s_.size())
          return std::nullopt;
        char e = s_[i_++];
        switch (e) {
          case 'n':
            out.push_back('\n');
            break;
          case 't':
            out.push_back('\t');
            break;
          case '\\':
          case '"':
          case '\'':
            out.push_back(e);
            break;
          default:
            return std::nullopt;
        }
        continue;
      }
      out.push_back(c);
    }
    return std::nullopt;
  }

  std::optional<std::string> Integer() {
    SkipSpace();
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    if (i_ == start)
      return std::nullopt;
    return std::string(s_.substr(start, i_ - start));
  }

  bool ParseTerm(Template::Term* term) {
    if (auto literal = StringLiteral()) {
      term->source = Template::Source::kLiteral;
      term->key = std::move(*literal);
      return true;
    }
    const size_t start = i_;
    auto name = Identifier();
    if (!name || *name == "or") {
      i_ = start;
      return false;
    }
    if (*name == "headers") {
      term->source = Template::Source::kHeader;
    } else if (*name == "query_params") {
      term->source = Template::Source::kQueryParam;
    } else if (*name == "uri_captures") {
      term->source = Template::Source::kUriCapture;
    } else {
      return false;
    }
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      auto key = Identifier();
      if (!key)
        return false;
      term->key = std::move(*key);
    } else if (i_ < s_.size() && s_[i_] == '[') {
      ++i_;
      auto key = StringLiteral();
      if (!key && term->source == Template::Source::kUriCapture)
        key = Integer();
      if (!key)
        return false;
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] != ']')
        return false;
      ++i_;
      term->key = std::move(*key);
    } else {
      return false;
    }
    if (term->source == Template::Source::kHeader)
      term->key = NormalizeHeaderKey(term->key);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// The end of the balanced "(...)" that starts at `open`, or npos (Lua's %b()).
size_t BalancedEnd(std::string_view s, size_t open) {
  int depth = 0;
  for (size_t i = open; i < s.size(); ++i) {
    if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string NormalizeHeaderKey(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    } else if (c == '_') {
      c = '-';
    }
  }
  return out;
}

std::optional<Template> Template::Parse(std::string_view text, std::string* error) {
  Template t;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = text[i] == '$' && i + 1 < text.size() && text[i + 1] == '('
                           ? BalancedEnd(text, i + 1)
                           : std::string_view::npos;
    if (end == std::string_view::npos) {
      literal.push_back(text[i++]);
      continue;
    }
    if (!literal.empty()) {
      t.parts_.push_back(Part{false, std::move(literal), {}});
      literal.clear();
    }
    const std::string_view body = text.substr(i + 2, end - i - 2);
    Part part;
    part.expression = true;
    if (!ExprParser(body).Run(&part.terms)) {
      *error = "unsupported expression '" + std::string(body) +
               "' (sluice supports headers.<name>, query_params.<name>, uri_captures.<name>, "
               "string literals and 'or')";
      return std::nullopt;
    }
    t.parts_.push_back(std::move(part));
    i = end + 1;
  }
  if (!literal.empty())
    t.parts_.push_back(Part{false, std::move(literal), {}});
  return t;
}

bool Template::dynamic() const {
  for (const Part& p : parts_) {
    if (p.expression)
      return true;
  }
  return false;
}

bool Template::Uses(Source source) const {
  for (const Part& p : parts_) {
    for (const Term& t : p.terms) {
      if (t.source == source)
        return true;
    }
  }
  return false;
}

void Template::CollectHeaders(std::vector<std::string>* names) const {
  for (const Part& p : parts_) {
    for (const Term& t : p.terms) {
      if (t.source == Source::kHeader)
        names->push_back(t.key);
    }
  }
}

void Template::CollectCaptures(std::vector<std::string>* keys) const {
  for (const Part& p : parts_) {
    for (const Term& t : p.terms) {
      if (t.source == Source::kUriCapture)
        keys->push_back(t.key);
    }
  }
}

std::string Template::Render(const TemplateSource& source) const {
  std::string out;
  for (const Part& p : parts_) {
    if (!p.expression) {
      out.append(p.text);
      continue;
    }
    // Lua's `a or b or c`: the first value that is not nil; nil renders as "".
    for (const Term& t : p.terms) {
      std::optional<std::string> v;
      switch (t.source) {
        case Source::kLiteral:
          v = t.key;
          break;
        case Source::kHeader:
          v = source.Header(t.key);
          break;
        case Source::kQueryParam:
          v = source.QueryParam(t.key);
          break;
        case Source::kUriCapture:
          v = source.UriCapture(t.key);
          break;
      }
      if (v) {
        out.append(*v);
        break;
      }
    }
  }
  return out;
}

}  // namespace sluice::filters::request_transformer

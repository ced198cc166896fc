// SPDX-License-Identifier: Apache-2.0
// Kong's request-transformer value templates (reference/kong.md §7.3): text with `$(expr)`
// parts, where Kong evaluates `expr` as sandboxed Lua. sluice implements the documented subset
// as a tiny expression language, parsed once at config time:
//   expr := term ("or" term)*
//   term := source "." name | source "[" string-or-integer "]" | string literal
//   source := headers | query_params | uri_captures
// with Lua's semantics: a missing value is nil, `a or b` is b only when a is nil, and nil renders
// as "". Anything else is refused at config time instead of failing requests with 500. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters::request_transformer {

// Where a template reads its values from. Implementations snapshot the request as it arrived.
class TemplateSource {
 public:
  virtual ~TemplateSource() = default;
  // `name` lower-cased with '_' mapped to '-' (Kong's header table lookup). nullopt: absent.
  virtual std::optional<std::string> Header(std::string_view name) const = 0;
  virtual std::optional<std::string> QueryParam(std::string_view name) const = 0;
  // A regex route's capture by name or by number ("1"); nullopt when there is none.
  virtual std::optional<std::string> UriCapture(std::string_view name) const = 0;
};

class Template {
 public:
  enum class Source { kLiteral, kHeader, kQueryParam, kUriCapture };

  struct Term {
    Source source = Source::kLiteral;
    std::string key;  // the literal text, or the header / parameter / capture name
  };

  // One `$(...)` (its terms joined by `or`) or a literal run of text.
  struct Part {
    bool expression = false;
    std::string text;         // literal run
    std::vector<Term> terms;  // expression
  };

  // Parses `text`; on failure returns nullopt and sets `error` (e.g. "unsupported expression
  // 'foo()'"). A `$(` without its balancing `)` is literal text, as in Penlight.
  static std::optional<Template> Parse(std::string_view text, std::string* error);

  // True when the text has at least one `$(...)`.
  bool dynamic() const;

  // True when some expression reads `source`.
  bool Uses(Source source) const;

  // The header names the template reads (normalised as TemplateSource::Header expects).
  void CollectHeaders(std::vector<std::string>* names) const;

  // The uri_captures keys (names or numbers) the template reads.
  void CollectCaptures(std::vector<std::string>* keys) const;

  std::string Render(const TemplateSource& source) const;

  const std::vector<Part>& parts() const { return parts_; }

 private:
  std::vector<Part> parts_;
};

// Kong's header-table key: lower case, '_' becomes '-'.
std::string NormalizeHeaderKey(std::string_view name);

}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// request-transformer templates: the $(...) subset sluice evaluates (reference/kong.md §7.3).
#include "template.h"

#include <map>
#include <string>

#include <catch2/catch.hpp>

namespace sluice::filters::request_transformer {
namespace {

// A source backed by maps; keys as the template asks for them.
class MapSource : public TemplateSource {
 public:
  std::map<std::string, std::string> headers, query, captures;

  std::optional<std::string> Header(std::string_view name) const override {
    return Get(headers, name);
  }

  std::optional<std::string> QueryParam(std::string_view name) const override {
    return Get(query, name);
  }

  std::optional<std::string> UriCapture(std::string_view name) const override {
    return Get(captures, name);
  }

 private:
  static std::optional<std::string> Get(const std::map<std::string, std::string>& m,
                                        std::string_view key) {
    auto it = m.find(std::string(key));
    if (it == m.end())
      return std::nullopt;
    return it->second;
  }
};

std::string Render(std::string_view text, const TemplateSource& source) {
  std::string error;
  std::optional<Template> t = Template::Parse(text, &error);
  INFO(error);
  REQUIRE(t.has_value());
  return t->Render(source);
}

std::string ParseError(std::string_view text) {
  std::string error;
  return Template::Parse(text, &error) ? "" : error;
}

TEST_CASE("request-transformer template: literal text stays as it is",
          "[filters][request-transformer]") {
  MapSource s;
  CHECK(Render("plain", s) == "plain");
  CHECK(Render("", s) == "");
  CHECK(Render("cost: $5 (approx)", s) == "cost: $5 (approx)");
  CHECK(Render("$(unbalanced", s) == "$(unbalanced");  // no balancing ')': literal, as Penlight
  std::string error;
  CHECK_FALSE(Template::Parse("a $ b", &error)->dynamic());
  CHECK(Template::Parse("$(headers.a)", &error)->dynamic());
}

TEST_CASE("request-transformer template: headers", "[filters][request-transformer]") {
  MapSource s;
  s.headers["x-user"] = "alice";
  CHECK(Render("$(headers.x_user)", s) == "alice");       // '_' is '-'
  CHECK(Render("$(headers[\"X-User\"])", s) == "alice");  // case-insensitive
  CHECK(Render("$(headers['x-user'])", s) == "alice");
  CHECK(Render("id=$(headers.X_USER);", s) == "id=alice;");
  CHECK(Render("$(headers.missing)", s) == "");            // nil renders as ""
  CHECK(Render("[$( headers.x_user )]", s) == "[alice]");  // spaces inside are fine
}

TEST_CASE("request-transformer template: query params and captures",
          "[filters][request-transformer]") {
  MapSource s;
  s.query["Page"] = "2";
  s.captures["id"] = "42";
  s.captures["1"] = "first";
  CHECK(Render("$(query_params.Page)", s) == "2");
  CHECK(Render("$(query_params.page)", s) == "");  // exact name, unlike headers
  CHECK(Render("$(query_params[\"Page\"])", s) == "2");
  CHECK(Render("/users/$(uri_captures.id)", s) == "/users/42");
  CHECK(Render("$(uri_captures[1])", s) == "first");
  CHECK(Render("$(uri_captures['id'])", s) == "42");
}

TEST_CASE("request-transformer template: 'or' picks the first non-nil value",
          "[filters][request-transformer]") {
  MapSource s;
  s.headers["x-a"] = "";
  s.headers["x-b"] = "b";
  CHECK(Render("$(headers.x_missing or \"default\")", s) == "default");
  CHECK(Render("$(headers.x_missing or headers.x_b or 'z')", s) == "b");
  CHECK(Render("$(headers.x_a or 'z')", s) == "");  // "" is not nil in Lua
  CHECK(Render("$(headers.none or query_params.none)", s) == "");
  CHECK(Render("$('it\\'s')", s) == "it's");
  CHECK(Render("$(headers.x_b)-$(headers.x_b)", s) == "b-b");
  CHECK(Render("$(headers.orx or 'o')", s) == "o");  // 'orx' is a name, not the keyword
}

TEST_CASE("request-transformer template: what is refused", "[filters][request-transformer]") {
  for (const char* text :
       {"$(os.exit())", "$(headers)", "$(headers.)", "$(headers.a or)", "$(or)",
        "$(headers.a ..'x')", "$(shared.x)", "$(type(headers.a))", "$(headers[1])",
        "$(headers['a')", "$('unterminated)", "$(query_params.a and 'b')", "$()",
        "$(headers.a headers.b)", "$(\"a\\q\")"}) {
    INFO(text);
    CHECK(ParseError(text).rfind("unsupported expression '", 0) == 0);
  }
}

TEST_CASE("request-transformer template: uses and header names", "[filters][request-transformer]") {
  std::string error;
  std::optional<Template> t =
      Template::Parse("$(headers.X_One or query_params.q)/$(headers['two'])", &error);
  REQUIRE(t);
  CHECK(t->Uses(Template::Source::kHeader));
  CHECK(t->Uses(Template::Source::kQueryParam));
  CHECK_FALSE(t->Uses(Template::Source::kUriCapture));
  std::vector<std::string> names;
  t->CollectHeaders(&names);
  CHECK(names == std::vector<std::string>{"x-one", "two"});
  CHECK(NormalizeHeaderKey("X_Forwarded-For") == "x-forwarded-for");
}

}  // namespace
}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// request-transformer schema: every default and every rejection (reference/kong.md §7.1).
#include "schema.h"

#include <string>

#include <catch2/catch.hpp>

#include <sluice/filter.hpp>

namespace sluice::filters::request_transformer {
namespace {

std::string Error(std::string_view json) {
  try {
    ParseConfig(json);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("request-transformer schema: defaults are empty lists",
          "[filters][request-transformer]") {
  const Config c = ParseConfig("{}");
  CHECK_FALSE(c.http_method.has_value());
  for (const Lists* l : {&c.remove, &c.rename, &c.replace, &c.add, &c.append}) {
    CHECK(l->body.empty());
    CHECK(l->headers.empty());
    CHECK(l->querystring.empty());
  }
  CHECK_FALSE(c.replace_uri.has_value());
  CHECK_FALSE(c.has_header_ops);
  CHECK_FALSE(c.has_query_ops);
  CHECK_FALSE(c.has_body_ops);
  CHECK_FALSE(c.templates_read_headers);
  CHECK_FALSE(c.templates_read_query);
  CHECK_FALSE(c.body_templates);
  // Empty objects and lists are the same as absent ones.
  const Config e = ParseConfig(R"({"remove": {}, "add": {"headers": [], "body": null}})");
  CHECK_FALSE(e.has_header_ops);
  CHECK_FALSE(e.has_body_ops);
}

TEST_CASE("request-transformer schema: values", "[filters][request-transformer]") {
  const Config c = ParseConfig(
      R"j({"http_method": "POST",
          "remove": {"headers": ["x-a", "x_b:ignored"], "querystring": ["q"], "body": ["p"]},
          "rename": {"headers": ["x-old:x-new"], "querystring": ["a:b"], "body": ["c:d"]},
          "replace": {"headers": ["x-url:http://a.example:8080/p"], "uri": "/new/$(headers.x_id)"},
          "add": {"querystring": ["q::two colons"], "headers": ["x-empty:"]},
          "append": {"body": ["k:$(query_params.v or 'none')"]}})j");
  CHECK(c.http_method == "POST");
  REQUIRE(c.remove.headers.size() == 2);
  CHECK(c.remove.headers[1].name == "x_b");
  CHECK(c.rename.headers[0].name == "x-old");
  CHECK(c.rename.headers[0].value == "x-new");
  CHECK(c.replace.headers[0].name == "x-url");
  CHECK(c.replace.headers[0].value == "http://a.example:8080/p");
  CHECK_FALSE(c.replace.headers[0].tmpl.has_value());
  CHECK(c.add.querystring[0].name == "q");
  CHECK(c.add.querystring[0].value == "two colons");  // Kong's ":*" eats the extra colon
  CHECK(c.add.headers[0].value.empty());
  CHECK(c.replace_uri == "/new/$(headers.x_id)");
  REQUIRE(c.uri_template.has_value());
  REQUIRE(c.append.body[0].tmpl.has_value());
  CHECK(c.has_header_ops);
  CHECK(c.has_query_ops);
  CHECK(c.has_body_ops);
  CHECK(c.templates_read_headers);
  CHECK(c.template_headers == std::vector<std::string>{"x-id"});
  CHECK(c.templates_read_query);
  CHECK(c.body_templates);
  CHECK_FALSE(
      ParseConfig(R"j({"add": {"headers": ["x:$(headers.y)"], "body": ["b:1"]}})j").body_templates);
}

TEST_CASE("request-transformer schema: header names", "[filters][request-transformer]") {
  CHECK(IsValidHeaderName("X-Foo_1"));
  CHECK_FALSE(IsValidHeaderName(""));
  CHECK_FALSE(IsValidHeaderName("x foo"));
  CHECK_FALSE(IsValidHeaderName("x.foo"));
  CHECK_FALSE(IsValidHeaderName("x:foo"));
}

TEST_CASE("request-transformer schema: rejections name the field",
          "[filters][request-transformer]") {
  SECTION("structure") {
    CHECK(Error(R"({"remove": {"header": []}})") == "config.remove.header: unknown field");
    CHECK(Error(R"({"remove": {"uri": "/x"}})") == "config.remove.uri: unknown field");
    CHECK(Error(R"({"transform": {}})") == "config.transform: unknown field");
    CHECK(Error(R"({"add": []})") == "config.add: expected an object");
    CHECK(Error(R"({"add": {"headers": "x:y"}})") == "config.add.headers: expected an array");
    CHECK(Error(R"({"add": {"headers": [1]}})") == "config.add.headers[0]: expected a string");
    CHECK(Error(R"({"replace": {"uri": 5}})") == "config.replace.uri: expected a string");
  }

  SECTION("http_method") {
    CHECK(Error(R"({"http_method": "post"})") == "config.http_method: invalid value: post");
    CHECK(Error(R"({"http_method": ""})") == "config.http_method: invalid value: ");
    CHECK(Error(R"({"http_method": "GET "})") == "config.http_method: invalid value: GET ");
    CHECK(Error(R"({"http_method": 1})") == "config.http_method: expected a string");
    CHECK(Error(R"({"http_method": "HEAD"})") ==
          "config.http_method: HEAD is not supported: the client would get a response without "
          "its body");
  }

  SECTION("remove") {
    CHECK(Error(R"({"remove": {"headers": ["x foo"]}})") ==
          "config.remove.headers[0]: 'x foo' is not a valid header");
    CHECK(Error(R"({"remove": {"headers": ["ok", ""]}})") ==
          "config.remove.headers[1]: '' is not a valid header");
    CHECK(Error(R"({"remove": {"querystring": [""]}})") ==
          "config.remove.querystring[0]: invalid value: ''");
    CHECK(Error(R"({"remove": {"body": [":x"]}})") == "config.remove.body[0]: invalid value: ':x'");
  }

  SECTION("rename") {
    CHECK(Error(R"({"rename": {"headers": ["x-a"]}})") ==
          "config.rename.headers[0]: invalid value: x-a");
    CHECK(Error(R"({"rename": {"headers": ["x a:x-b"]}})") ==
          "config.rename.headers[0]: 'x a' is not a valid header");
    CHECK(Error(R"({"rename": {"headers": ["x-a:x b"]}})") ==
          "config.rename.headers[0]: 'x b' is not a valid header");
    CHECK(Error(R"({"rename": {"headers": ["x-a:"]}})") ==
          "config.rename.headers[0]: '' is not a valid header");
    CHECK(Error(R"({"rename": {"querystring": ["a"]}})") ==
          "config.rename.querystring[0]: key 'a' has no value");
    CHECK(Error(R"({"rename": {"body": ["a:"]}})") ==
          "config.rename.body[0]: key 'a' has no value");
  }

  SECTION("replace, add and append") {
    for (const char* op : {"replace", "add", "append"}) {
      INFO(op);
      const std::string o = op;
      CHECK(Error(R"({")" + o + R"(": {"headers": ["x-a"]}})") ==
            "config." + o + ".headers[0]: invalid value: x-a");
      CHECK(Error(R"({")" + o + R"(": {"headers": ["x a:1"]}})") ==
            "config." + o + ".headers[0]: 'x a' is not a valid header");
      CHECK(Error(R"({")" + o + R"(": {"headers": ["x-a:1\u0007"]}})") ==
            "config." + o + ".headers[0]: '1\a' is not a valid header");
      CHECK(Error(R"({")" + o + R"(": {"querystring": ["q"]}})") ==
            "config." + o + ".querystring[0]: key 'q' has no value");
      CHECK(Error(R"({")" + o + R"(": {"querystring": ["q:"]}})") ==
            "config." + o + ".querystring[0]: key 'q' has no value");
      CHECK(Error(R"({")" + o + R"(": {"body": [":v"]}})") ==
            "config." + o + ".body[0]: invalid value: ':v'");
      CHECK(Error(R"({")" + o + R"(": {"body": ["b"]}})") ==
            "config." + o + ".body[0]: key 'b' has no value");
    }
  }

  SECTION("replace.uri") {
    CHECK(Error(R"({"replace": {"uri": "relative"}})") ==
          "config.replace.uri: must start with '/'");
    CHECK(Error(R"({"replace": {"uri": ""}})") == "config.replace.uri: must start with '/'");
    CHECK(Error(R"({"replace": {"uri": "/a\nb"}})") ==
          "config.replace.uri: must not contain control characters");
  }

  SECTION("templates") {
    CHECK(Error(R"j({"add": {"querystring": ["q:$(os.exit())"]}})j") ==
          "config.add.querystring[0]: value '$(os.exit())' is not in supported format, error: "
          "unsupported expression 'os.exit()' (sluice supports headers.<name>, "
          "query_params.<name>, uri_captures.<name>, string literals and 'or')");
    CHECK(Error(R"j({"add": {"headers": ["x-a:$(headers.x ..)"]}})j")
              .find("config.add.headers[0]: value '$(headers.x ..)' is not in supported format") ==
          0);
    CHECK(Error(R"j({"replace": {"uri": "/$(shared.x)"}})j")
              .find("config.replace.uri: value '/$(shared.x)' is not in supported format") == 0);
    // uri_captures are read through the host (uri_capture_get) and collected at config time.
    const Config c = ParseConfig(
        R"j({"append": {"body": ["b:$(uri_captures.id)"]}, "replace": {"uri": "/u/$(uri_captures[1])"}})j");
    CHECK(c.template_captures == std::vector<std::string>{"id", "1"});
  }
}

}  // namespace
}  // namespace sluice::filters::request_transformer

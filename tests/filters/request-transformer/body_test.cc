// SPDX-License-Identifier: Apache-2.0
// request-transformer body operations on JSON and form bodies (reference/kong.md §7.2).
#include "body.h"

#include <string>

#include <catch2/catch.hpp>

#include "transform.h"

namespace sluice::filters::request_transformer {
namespace {

const RequestSnapshot kNoSource({}, "");

std::optional<std::string> Json(std::string_view json, std::string_view body,
                                const TemplateSource& source = kNoSource) {
  return TransformBody(ParseConfig(json), BodyKind::kJson, body, source);
}

std::optional<std::string> Form(std::string_view json, std::string_view body,
                                const TemplateSource& source = kNoSource) {
  return TransformBody(ParseConfig(json), BodyKind::kForm, body, source);
}

TEST_CASE("request-transformer body: content types", "[filters][request-transformer]") {
  CHECK(ClassifyContentType(std::nullopt) == BodyKind::kOther);
  CHECK(ClassifyContentType("application/json") == BodyKind::kJson);
  CHECK(ClassifyContentType("Application/JSON; charset=utf-8") == BodyKind::kJson);
  CHECK(ClassifyContentType("multipart/form-data; boundary=x") == BodyKind::kMultipart);
  CHECK(ClassifyContentType("application/x-www-form-urlencoded") == BodyKind::kForm);
  CHECK(ClassifyContentType("text/plain") == BodyKind::kOther);
  CHECK(ClassifyContentType("") == BodyKind::kOther);
}

TEST_CASE("request-transformer body: other types pass through", "[filters][request-transformer]") {
  const Config c = ParseConfig(R"({"add": {"body": ["a:1"]}})");
  CHECK_FALSE(TransformBody(c, BodyKind::kOther, "a=0", kNoSource).has_value());
  CHECK_FALSE(TransformBody(c, BodyKind::kMultipart, "--x\r\n", kNoSource).has_value());
  CHECK_FALSE(TransformBody(ParseConfig("{}"), BodyKind::kJson, "{}", kNoSource).has_value());
}

TEST_CASE("request-transformer body: JSON operations", "[filters][request-transformer]") {
  const char* body = R"({"a":1,"b":"x","c":false,"d":null,"n":{"k":[1,2]}})";
  SECTION("remove") {
    CHECK(Json(R"({"remove": {"body": ["a", "n", "none"]}})", body) ==
          R"({"b":"x","c":false,"d":null})");
  }
  SECTION("rename keeps the value and overwrites the target; false is not renamed") {
    CHECK(Json(R"({"rename": {"body": ["n:m", "c:cc", "none:z", "b:a"]}})", body) ==
          R"({"a":"x","c":false,"d":null,"m":{"k":[1,2]}})");
  }
  SECTION("replace only truthy members, with strings") {
    CHECK(Json(R"({"replace": {"body": ["a:2", "c:true", "d:v", "none:v"]}})", body) ==
          R"({"a":"2","b":"x","c":false,"d":"v","n":{"k":[1,2]}})");
  }
  SECTION("add when absent or false") {
    CHECK(Json(R"({"add": {"body": ["a:no", "c:yes", "d:no", "e:new"]}})", body) ==
          R"({"a":1,"b":"x","c":"yes","d":null,"n":{"k":[1,2]},"e":"new"})");
  }
  SECTION("append builds arrays") {
    CHECK(Json(R"({"append": {"body": ["b:y", "e:1", "a:2"]}})", body) ==
          R"({"a":["2"],"b":["x","y"],"c":false,"d":null,"n":{"k":[1,2]},"e":["1"]})");
    CHECK(Json(R"({"append": {"body": ["l:3"]}})", R"({"l":["1",2]})") == R"({"l":["1",2,"3"]})");
  }
  SECTION("nothing applied leaves the body as it is") {
    CHECK_FALSE(Json(R"({"replace": {"body": ["none:v"]}})", body).has_value());
    CHECK_FALSE(Json(R"({"rename": {"body": ["none:v"]}})", body).has_value());
  }
}

TEST_CASE("request-transformer body: JSON edge cases", "[filters][request-transformer]") {
  SECTION("an empty body takes add and append only") {
    CHECK(Json(R"({"remove": {"body": ["a"]}, "replace": {"body": ["a:1"]},
                   "add": {"body": ["a:1"]}, "append": {"body": ["b:2"]}})",
               "") == R"({"a":"1","b":["2"]})");
    CHECK_FALSE(Json(R"({"remove": {"body": ["a"]}})", "").has_value());
  }

  SECTION("invalid JSON is left alone") {
    CHECK_FALSE(Json(R"({"add": {"body": ["a:1"]}})", "{not json").has_value());
    CHECK_FALSE(Json(R"({"add": {"body": ["a:1"]}})", "  ").has_value());
  }

  SECTION("arrays and scalars are left alone") {
    CHECK_FALSE(Json(R"({"add": {"body": ["a:1"]}})", "[1,2]").has_value());
    CHECK_FALSE(Json(R"({"add": {"body": ["a:1"]}})", "\"s\"").has_value());
  }

  SECTION("remove re-encodes even when the key is absent, as Kong") {
    CHECK(Json(R"({"remove": {"body": ["none"]}})", "{ \"a\" : 1 }") == R"({"a":1})");
  }

  SECTION("templates and bytes that are not UTF-8") {
    const RequestSnapshot snap({{"x-user", "al\xff"}}, "q=1");
    CHECK(Json(R"j({"add": {"body": ["u:$(headers.x_user)", "q:$(query_params.q)"]}})j", "{}",
               snap) == "{\"u\":\"al\xef\xbf\xbd\",\"q\":\"1\"}");
  }
}

TEST_CASE("request-transformer body: form operations", "[filters][request-transformer]") {
  const char* body = "a=1&b=x&b=y&f&s=a+b";
  CHECK(Form(R"({"remove": {"body": ["b", "none"]}})", body) == "a=1&f&s=a%20b");
  CHECK(Form(R"({"rename": {"body": ["b:c", "none:z"]}})", body) == "a=1&c=x&c=y&f&s=a%20b");
  CHECK(Form(R"({"replace": {"body": ["b:z", "f:on", "none:v"]}})", body) ==
        "a=1&b=z&f=on&s=a%20b");
  CHECK(Form(R"({"add": {"body": ["a:no", "n:new"]}})", body) == "a=1&b=x&b=y&f&s=a%20b&n=new");
  CHECK(Form(R"({"append": {"body": ["a:2", "f:x", "n:1"]}})", body) ==
        "a=1&a=2&b=x&b=y&f=x&s=a%20b&n=1");
  CHECK_FALSE(Form(R"({"replace": {"body": ["none:v"]}})", body).has_value());
  CHECK_FALSE(Form(R"({"add": {"body": ["a:v"]}})", body).has_value());
  SECTION("an empty body takes add and append only") {
    CHECK(Form(R"({"replace": {"body": ["a:1"]}, "add": {"body": ["a:1"]}})", "") == "a=1");
    CHECK_FALSE(Form(R"({"remove": {"body": ["a"]}})", "").has_value());
  }
}

TEST_CASE("request-transformer body: remove, rename, replace, add, append in that order",
          "[filters][request-transformer]") {
  const char* json = R"({
      "append": {"body": ["k:appended"]},
      "add": {"body": ["k:added", "gone:added"]},
      "replace": {"body": ["k:replaced", "gone:replaced"]},
      "rename": {"body": ["orig:k"]},
      "remove": {"body": ["gone"]}})";
  CHECK(Json(json, R"({"orig":"o","gone":"g"})") ==
        R"({"k":["replaced","appended"],"gone":"added"})");
  CHECK(Form(json, "orig=o&gone=g") == "k=replaced&k=appended&gone=added");
}

}  // namespace
}  // namespace sluice::filters::request_transformer

// SPDX-License-Identifier: Apache-2.0
// request-transformer URL-encoded arguments: decoding, Kong's operations and both encodings.
#include "args.h"

#include <string>

#include <catch2/catch.hpp>

namespace sluice::filters::request_transformer {
namespace {

TEST_CASE("request-transformer args: decoding groups names and keeps flags",
          "[filters][request-transformer]") {
  const Args a = Args::Decode("b=2&a=1&flag&a=3&&=x&sp=a+b%20c&pct=100%25&bad=%zz&e=");
  REQUIRE(a.items().size() == 7);
  CHECK(a.items()[0].name == "b");
  const Arg* arg = a.Find("a");
  REQUIRE(arg != nullptr);
  CHECK(arg->values == std::vector<std::optional<std::string>>{"1", "3"});
  REQUIRE(a.Find("flag") != nullptr);
  CHECK(a.Find("flag")->values == std::vector<std::optional<std::string>>{std::nullopt});
  CHECK(a.Find("sp")->values[0] == "a b c");
  CHECK(a.Find("pct")->values[0] == "100%");
  CHECK(a.Find("bad")->values[0] == "%zz");
  CHECK(a.Find("e")->values[0] == "");
  CHECK(a.Find("") == nullptr);
  CHECK(Args::Decode("").empty());
  CHECK(Args::Decode("k%3D=v%26").Find("k=")->values[0] == "v&");
}

TEST_CASE("request-transformer args: encodings", "[filters][request-transformer]") {
  const Args a = Args::Decode("zzz&bar=baz&bar=bla&bar&blo=&foo=hello+world&u=%C3%A9%2F~");
  // Kong's own example for kong.service.request.set_query.
  CHECK(a.EncodeSorted() == "bar=baz&bar=bla&bar&blo=&foo=hello%20world&u=%C3%A9%2F~&zzz");
  CHECK(a.EncodeInOrder() == "zzz&bar=baz&bar=bla&bar&blo=&foo=hello%20world&u=%C3%A9%2F~");
  CHECK(UrlEncode("a-b_c.d~e f+g/h?i") == "a-b_c.d~e%20f%2Bg%2Fh%3Fi");
  CHECK(UrlDecode("a+b%41%4a%") == "a bAJ%");
  CHECK(Args().EncodeSorted().empty());
}

TEST_CASE("request-transformer args: operations", "[filters][request-transformer]") {
  SECTION("remove drops every value") {
    Args a = Args::Decode("a=1&b=2&a=3");
    a.Remove("a");
    a.Remove("missing");
    CHECK(a.EncodeInOrder() == "b=2");
  }
  SECTION("rename moves every value and replaces the target, in place") {
    Args a = Args::Decode("x=0&a=1&b=2&a=3");
    CHECK(a.Rename("a", "b"));
    CHECK(a.EncodeInOrder() == "x=0&b=1&b=3");
    CHECK_FALSE(a.Rename("missing", "c"));
    CHECK_FALSE(a.Rename("x", "x"));
    CHECK(a.Rename("x", "y"));
    CHECK(a.EncodeInOrder() == "y=0&b=1&b=3");
  }
  SECTION("replace only when present, with one value") {
    Args a = Args::Decode("a=1&a=2&f");
    CHECK(a.Replace("a", "x"));
    CHECK(a.Replace("f", "y"));  // a flag is present (true in Lua)
    CHECK_FALSE(a.Replace("b", "z"));
    CHECK(a.EncodeInOrder() == "a=x&f=y");
  }
  SECTION("add only when absent") {
    Args a = Args::Decode("a=1&f");
    CHECK_FALSE(a.Add("a", "x"));
    CHECK_FALSE(a.Add("f", "x"));
    CHECK(a.Add("b", "2"));
    CHECK(a.EncodeInOrder() == "a=1&f&b=2");
  }
  SECTION("append follows Kong's append_value") {
    Args a = Args::Decode("s=1&l=1&l=2&f");
    a.Append("s", "2");    // string -> list
    a.Append("l", "3");    // list grows
    a.Append("f", "x");    // a lone flag is replaced
    a.Append("n", "new");  // absent -> the value
    CHECK(a.EncodeInOrder() == "s=1&s=2&l=1&l=2&l=3&f=x&n=new");
  }
}

}  // namespace
}  // namespace sluice::filters::request_transformer

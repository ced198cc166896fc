// SPDX-License-Identifier: Apache-2.0
// request-transformer through the real gateway (reference/kong.md §7): what a sluice-echo
// upstream receives after the head and body operations, and config errors with file:line:col.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kConfig = R"yaml(_format_version: "3.0"
services:
  - name: main
    url: ${URL}
    routes:
      - name: head
        paths: ["/head"]
        plugins:
          - name: request-transformer
            config:
              remove:
                headers: ["x-remove"]
                querystring: ["drop"]
              rename:
                headers: ["x-old:x-new"]
                querystring: ["old:new"]
              replace:
                headers: ["x-replace:replaced"]
                querystring: ["keep:replaced"]
                uri: "/rewritten/$(headers.x_id or 'none')"
              add:
                headers: ["x-add:added", "x-from-query:$(query_params.user)"]
                querystring: ["added:a b", "id:$(headers.x_id)"]
              append:
                headers: ["x-multi:appended"]
                querystring: ["list:3"]
      - name: body
        paths: ["/body"]
        plugins:
          - name: request-transformer
            config:
              remove:
                body: ["secret"]
              rename:
                body: ["old:new"]
              replace:
                body: ["mode:replaced"]
              add:
                body: ["added:$(headers.x_user)"]
              append:
                body: ["tags:t2"]
)yaml";

struct Gateway {
  Gateway() : sluice(Substitute(kConfig, {{"URL", echo.url()}})) {}

  EchoServer echo;
  Sluice sluice;
};

// sluice-echo reports the size and FNV-1a hash of the body it received.
void CheckBody(const nlohmann::json& j, const std::string& expected) {
  INFO("expected body: " << expected);
  CHECK(j["body_bytes"].get<uint64_t>() == expected.size());
  CHECK(j["body_fnv"] == Fnv1a64Hex(expected));
}

TEST_CASE("request-transformer: headers, querystring and uri",
          "[integration][request-transformer]") {
  Gateway gw;
  const CurlResult r = Curl(gw.sluice.url("/head/orig?drop=1&old=o&keep=k&list=1&list=2&user=bob"),
                            "-H", "X-Remove: gone", "-H", "X-Old: moved", "-H",
                            "X-Replace: original", "-H", "X-Multi: first", "-H", "X-Id: 42");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  const nlohmann::json j = r.Json();
  CHECK(j["path"] == "/rewritten/42");
  // Kong's set_query: each name encoded with its values, the pieces sorted.
  CHECK(j["query"] == "added=a%20b&id=42&keep=replaced&list=1&list=2&list=3&new=o&user=bob");
  const nlohmann::json& h = j["headers"];
  CHECK_FALSE(h.contains("x-remove"));
  CHECK_FALSE(h.contains("x-old"));
  CHECK(h.value("x-new", "<absent>") == "moved");
  CHECK(h.value("x-replace", "<absent>") == "replaced");
  CHECK(h.value("x-add", "<absent>") == "added");
  CHECK(h.value("x-from-query", "<absent>") == "bob");
  CHECK(h.value("x-multi", "<absent>") == "first, appended");
  CHECK(h.value("x-id", "<absent>") == "42");
}

TEST_CASE("request-transformer: absent items are not replaced, templates fall back",
          "[integration][request-transformer]") {
  Gateway gw;
  const CurlResult r = Curl(gw.sluice.url("/head"));
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  const nlohmann::json j = r.Json();
  CHECK(j["path"] == "/rewritten/none");
  CHECK(j["query"] == "added=a%20b&id=&list=3");
  CHECK_FALSE(j["headers"].contains("x-replace"));
  CHECK_FALSE(j["headers"].contains("x-new"));
  CHECK(j["headers"].value("x-from-query", "<absent>") == "");
  CHECK(j["headers"].value("x-multi", "<absent>") == "appended");
}

TEST_CASE("request-transformer: JSON bodies", "[integration][request-transformer]") {
  Gateway gw;
  SECTION("transformed and framed anew") {
    const CurlResult r =
        Curl(gw.sluice.url("/body"), "-H", "Content-Type: application/json", "-H", "X-User: alice",
             "--data-binary", R"({"secret":"s","old":1,"mode":"m","tags":"t1","n":{"x":[1]}})");
    INFO(r.stderr_text << r.body);
    REQUIRE(r.status == 200);
    const nlohmann::json j = r.Json();
    CheckBody(j, R"({"mode":"replaced","tags":["t1","t2"],"n":{"x":[1]},"new":1,"added":"alice"})");
    CHECK(j["method"] == "POST");
    // The filter dropped the client's Content-Length; the host framed the new body itself
    // (chunked, or a length it computed from the whole buffered body).
    const nlohmann::json& h = j["headers"];
    if (h.contains("content-length")) {
      CHECK(h.value("content-length", "<absent>") ==
            std::to_string(j["body_bytes"].get<uint64_t>()));
    } else {
      CHECK(h.value("transfer-encoding", "") == "chunked");
    }
  }
  SECTION("invalid JSON passes through unchanged") {
    const std::string body = "{not json";
    const CurlResult r =
        Curl(gw.sluice.url("/body"), "-H", "Content-Type: application/json", "--data-binary", body);
    REQUIRE(r.status == 200);
    CheckBody(r.Json(), body);
  }
  SECTION("a large body is buffered whole") {
    std::string body = R"({"secret":")" + std::string(3 * 1024 * 1024, 'x') + R"(","keep":1})";
    TempDir dir;
    const std::string file = dir.WriteFile("big.json", body);
    const CurlResult r = Curl(gw.sluice.url("/body"), "-H", "Content-Type: application/json",
                              "--data-binary", "@" + file);
    INFO(r.stderr_text << r.body);
    REQUIRE(r.status == 200);
    CheckBody(r.Json(), R"({"keep":1,"added":"","tags":["t2"]})");
  }
}

TEST_CASE("request-transformer: form bodies", "[integration][request-transformer]") {
  Gateway gw;
  const CurlResult r =
      Curl(gw.sluice.url("/body"), "-H", "Content-Type: application/x-www-form-urlencoded",
           "--data-binary", "secret=s&old=1&mode=m&tags=t1&sp=a+b");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  CheckBody(r.Json(), "new=1&mode=replaced&tags=t1&tags=t2&sp=a%20b&added=");
}

TEST_CASE("request-transformer: other bodies stream through untouched",
          "[integration][request-transformer]") {
  Gateway gw;
  const std::string body = PseudoRandomBytes(100000, 3);
  TempDir dir;
  const std::string file = dir.WriteFile("body.bin", body);
  for (const char* type : {"text/plain", "multipart/form-data; boundary=x"}) {
    INFO(type);
    const CurlResult r = Curl(gw.sluice.url("/body"), "-H", std::string("Content-Type: ") + type,
                              "--data-binary", "@" + file);
    REQUIRE(r.status == 200);
    const nlohmann::json j = r.Json();
    CheckBody(j, body);
    CHECK(j["headers"].value("content-length", "<absent>") == std::to_string(body.size()));
  }
}

TEST_CASE("request-transformer: a body over the buffer limit gets 413",
          "[integration][request-transformer]") {
  Gateway gw;
  TempDir dir;
  const std::string file =
      dir.WriteFile("huge.json", R"({"a":")" + std::string(9 * 1024 * 1024, 'x') + R"("})");
  const CurlResult r = Curl(gw.sluice.url("/body"), "-H", "Content-Type: application/json",
                            "--data-binary", "@" + file);
  INFO(r.stderr_text << r.body);
  CHECK(r.status == 413);
  CHECK(gw.echo.GetStats().requests == 0);
}

TEST_CASE("request-transformer: http_method and uri_captures templates",
          "[integration][request-transformer]") {
  EchoServer echo;
  Sluice gw(Substitute(R"yaml(_format_version: "3.0"
services:
  - name: main
    url: ${URL}
    routes:
      - name: users
        paths: ["~/users/(?<id>\\d+)/(\\w+)$"]
        plugins:
          - name: request-transformer
            config:
              http_method: POST
              replace:
                uri: "/u/$(uri_captures.id)"
              add:
                headers: ["x-second:$(uri_captures[2])", "x-none:$(uri_captures.nope or 'n')"]
)yaml",
                       {{"URL", echo.url()}}));
  const CurlResult r = Curl(gw.url("/users/42/orders?x=1"));
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  const nlohmann::json j = r.Json();
  CHECK(j["method"] == "POST");
  CHECK(j["path"] == "/u/42");
  CHECK(j["query"] == "x=1");
  CHECK(j["headers"]["x-second"] == "orders");
  CHECK(j["headers"]["x-none"] == "n");
  // The client's own method is what the access log and the response side see.
  // A HEAD answer carries no body: the next response on the connection parses cleanly.
  RawConn conn(gw.port());
  REQUIRE(conn.Send(Request("HEAD", "/users/7/x")));
  const Response head = conn.ReadResponse(true);
  CHECK(head.status == 200);
  REQUIRE(conn.Send(Request("GET", "/users/8/y")));
  const Response next = conn.ReadResponse();
  INFO(next.Describe());
  CHECK(next.status == 200);
  CHECK(next.Json()["path"] == "/u/8");
}

TEST_CASE("request-transformer: config errors point at the field",
          "[integration][request-transformer]") {
  const std::string bin = RequireEnv("SLUICE_BIN");
  TempDir dir;

  struct Case {
    const char* config;
    const char* error;  // after "<file>:"
  };

  const Case cases[] = {
      {"add: {querystring: [\"q\"]}", "10:42: config.add.querystring[0]: key 'q' has no value"},
      {"rename: {headers: [\"x-a:x b\"]}",
       "10:41: config.rename.headers[0]: 'x b' is not a valid header"},
      {"http_method: post", "10:35: config.http_method: invalid value: post"},
      {"http_method: HEAD",
       "10:35: config.http_method: HEAD is not supported: the client would get a response "
       "without its body"},
  };
  for (const Case& c : cases) {
    INFO(c.config);
    const std::string path = dir.WriteFile("kong.yml", std::string(R"(_format_version: "3.0"
services:
  - name: main
    url: http://127.0.0.1:9
    routes:
      - name: api
        paths: ["/api"]
        plugins:
          - name: request-transformer
            config: {)") + c.config + "}\n");
    Process p = Process::Spawn({bin, "validate", "-c", path});
    REQUIRE(p.Wait(Millis(20000)) == 1);
    const std::string err = p.ReadStderr();
    INFO(err);
    CHECK(err.find(path + ":" + c.error + "\n") != std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::testing

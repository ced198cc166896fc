// SPDX-License-Identifier: Apache-2.0
// Kong's jwt decision end to end over real signed tokens: every 401 body and challenge, the
// algorithm checks (confusion, none), claims, base64 secrets, roles; and token extraction.
#include "filters/jwt/authenticate.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "filters/jwt/base64url.h"
#include "filters/jwt/extract.h"
#include "tests/filters/jwt/test_tokens.h"

namespace sluice::filters::jwt {
namespace {

using namespace testing;

constexpr double kNow = 1'700'000'000;

nlohmann::json Secret(const std::string& key, const std::string& algorithm,
                      const std::string& secret, const std::string& pem = "") {
  return {{"id", "cred-" + key},
          {"key", key},
          {"secret", secret},
          {"rsa_public_key", pem},
          {"algorithm", algorithm},
          {"consumer", {{"id", "c-" + key}, {"username", "user-" + key}, {"custom_id", ""}}}};
}

// A config with one credential per family: hs (HS256 "hs-secret"), rs (RS256), es (ES256).
Config MakeConfig(const std::string& json = "{}") {
  Config c = ParseConfig(json);
  LoadCredentials(
      nlohmann::json::array(
          {Secret("hs", "HS256", "hs-secret"), Secret("rs", "RS256", "", PublicPem(RsaKey().get())),
           Secret("es", "ES256", "", PublicPem(EcKey(256).get())), Secret("nokey", "ES256", "")})
          .dump(),
      &c);
  return c;
}

Outcome Run(const Config& c, const std::string& token) {
  return Authenticate(c, std::vector<std::string>{token}, kNow);
}

// The 401 message for `token`, or "ok".
std::string Message(const Config& c, const std::string& token) {
  Outcome o = Run(c, token);
  if (!o.refusal)
    return "ok";
  CHECK(o.refusal->status == 401);
  return o.refusal->body;
}

std::string Msg(const std::string& text) { return R"({"message":")" + text + R"("})"; }

TEST_CASE("jwt authenticate: good tokens of each family pass", "[filters][jwt]") {
  const Config c = MakeConfig();
  Outcome hs = Run(c, HsToken("HS256", "hs-secret", R"({"iss":"hs"})"));
  REQUIRE_FALSE(hs.refusal);
  CHECK(hs.identity.credential->key == "hs");
  CHECK(hs.identity.credential->consumer.id == "c-hs");
  CHECK(Message(c, KeyToken("RS256", RsaKey().get(), R"({"iss":"rs"})")) == "ok");
  CHECK(Message(c, KeyToken("ES256", EcKey(256).get(), R"({"iss":"es"})")) == "ok");
}

TEST_CASE("jwt authenticate: token count", "[filters][jwt]") {
  const Config c = MakeConfig();
  Outcome none = Authenticate(c, {}, kNow);
  REQUIRE(none.refusal);
  CHECK(none.refusal->body == Msg("Unauthorized"));
  CHECK(none.refusal->challenge == Challenge::kBearer);
  Outcome two = Authenticate(c, {"a", "b"}, kNow);
  REQUIRE(two.refusal);
  CHECK(two.refusal->body == Msg("Multiple tokens provided"));
  CHECK(two.refusal->challenge == Challenge::kInvalidToken);
}

TEST_CASE("jwt authenticate: Kong's 401 messages", "[filters][jwt]") {
  const Config c = MakeConfig();
  const std::string good = HsToken("HS256", "hs-secret", R"({"iss":"hs"})");
  CHECK(Message(c, "not-a-token") == Msg("Bad token; invalid JSON"));
  CHECK(Message(c, SigningInput(R"({"alg":"none"})", R"({"iss":"hs"})") + ".") ==
        Msg("Bad token; invalid alg"));
  CHECK(Message(c, Base64UrlEncode(R"({"alg":"HS256"})")) == Msg("Bad token; invalid claims"));
  CHECK(Message(c, good.substr(0, good.rfind('.'))) == Msg("Bad token; invalid signature"));
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"sub":"x"})")) ==
        Msg("No mandatory 'iss' in claims"));
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":""})")) ==
        Msg("Invalid 'iss' in claims"));
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":"nobody"})")) ==
        Msg("No credentials found for given 'iss'"));
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":42})")) ==
        Msg("No credentials found for given 'iss'"));
  CHECK(Message(c, HsToken("HS384", "hs-secret", R"({"iss":"hs"})")) == Msg("Invalid algorithm"));
  CHECK(Message(c, KeyToken("ES256", EcKey(256).get(), R"({"iss":"nokey"})")) ==
        Msg("Invalid key/secret"));
  CHECK(Message(c, HsToken("HS256", "other", R"({"iss":"hs"})")) == Msg("Invalid signature"));
  CHECK(Message(c, SwapClaims(good, R"({"iss":"hs","admin":true})")) == Msg("Invalid signature"));
  CHECK(Message(c, TamperSignature(good)) == Msg("Invalid signature"));
  CHECK(Message(c, TamperSignature(KeyToken("RS256", RsaKey().get(), R"({"iss":"rs"})"))) ==
        Msg("Invalid signature"));
  CHECK(Message(c, SwapClaims(KeyToken("ES256", EcKey(256).get(), R"({"iss":"es"})"),
                              R"({"iss":"es","x":1})")) == Msg("Invalid signature"));
}

TEST_CASE("jwt authenticate: every refusal but 'no token' says invalid_token", "[filters][jwt]") {
  const Config c = MakeConfig();
  Outcome o = Run(c, HsToken("HS256", "other", R"({"iss":"hs"})"));
  REQUIRE(o.refusal);
  CHECK(o.refusal->challenge == Challenge::kInvalidToken);
  CHECK(WwwAuthenticate(c, Challenge::kBearer) == "Bearer");
  CHECK(WwwAuthenticate(c, Challenge::kInvalidToken) == R"(Bearer error="invalid_token")");
  CHECK(WwwAuthenticate(c, Challenge::kNone) == "");
  const Config realm = MakeConfig(R"({"realm": "api"})");
  CHECK(WwwAuthenticate(realm, Challenge::kBearer) == R"(Bearer realm="api")");
  CHECK(WwwAuthenticate(realm, Challenge::kInvalidToken) ==
        R"(Bearer realm="api", error="invalid_token")");
}

TEST_CASE("jwt authenticate: algorithm confusion and none are refused", "[filters][jwt]") {
  const Config c = MakeConfig();
  // The classic attack: HS256 keyed with the RS256 credential's public PEM.
  const std::string pem = PublicPem(RsaKey().get());
  CHECK(Message(c, HsToken("HS256", pem, R"({"iss":"rs"})")) == Msg("Invalid algorithm"));
  // Even a header claiming RS256 over an HMAC signature fails verification.
  const std::string input = SigningInput(R"({"alg":"RS256"})", R"({"iss":"rs"})");
  CHECK(Message(c, input + "." + Base64UrlEncode(Sign("HS256", input, nullptr, pem))) ==
        Msg("Invalid signature"));
  // alg none, with or without a signature, and any case of it.
  for (const char* alg : {"none", "None", "NONE"}) {
    const std::string in =
        SigningInput(std::string(R"({"alg":")") + alg + R"("})", R"({"iss":"hs"})");
    CHECK(Message(c, in + ".") == Msg("Bad token; invalid alg"));
    CHECK(Message(c, in + ".c2ln") == Msg("Bad token; invalid alg"));
  }
  // An ES256 token against the HS256 credential.
  CHECK(Message(c, KeyToken("ES256", EcKey(256).get(), R"({"iss":"hs"})")) ==
        Msg("Invalid algorithm"));
}

TEST_CASE("jwt authenticate: key_claim_name, also from the header (kid)", "[filters][jwt]") {
  const Config c = MakeConfig(R"({"key_claim_name": "kid"})");
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"sub":"a"})",
                           R"({"alg":"HS256","kid":"hs"})")) == "ok");
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"kid":"hs"})")) == "ok");
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":"hs"})")) ==
        Msg("No mandatory 'kid' in claims"));
}

TEST_CASE("jwt authenticate: claims failures answer with the error map", "[filters][jwt]") {
  const Config c = MakeConfig(R"({"claims_to_verify": ["exp"], "maximum_expiration": 100})");
  Outcome expired = Run(c, HsToken("HS256", "hs-secret", R"({"iss":"hs","exp":1600000000})"));
  REQUIRE(expired.refusal);
  CHECK(expired.refusal->status == 401);
  CHECK(expired.refusal->body == R"({"exp":"token expired"})");
  CHECK(expired.refusal->challenge == Challenge::kInvalidToken);
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":"hs","exp":1700000050})")) == "ok");
  CHECK(Message(c, HsToken("HS256", "hs-secret", R"({"iss":"hs","exp":1700000500})")) ==
        R"({"exp":"exceeds maximum allowed expiration"})");
  // Claims are checked after the signature: a forged expiry is just a bad signature.
  const std::string fresh = HsToken("HS256", "hs-secret", R"({"iss":"hs","exp":1700000050})");
  CHECK(Message(c, SwapClaims(fresh, R"({"iss":"hs","exp":1600000000})")) ==
        Msg("Invalid signature"));
}

TEST_CASE("jwt authenticate: base64 secrets", "[filters][jwt]") {
  const std::string raw("\x01\xfe\x00secret", 9);
  Config c = ParseConfig(R"({"secret_is_base64": true})");
  LoadCredentials(nlohmann::json::array({Secret("b", "HS512", Base64UrlEncode(raw))}).dump(), &c);
  CHECK(Message(c, HsToken("HS512", raw, R"({"iss":"b"})")) == "ok");
  CHECK(Message(c, HsToken("HS512", Base64UrlEncode(raw), R"({"iss":"b"})")) ==
        Msg("Invalid signature"));
  Config bad = ParseConfig(R"({"secret_is_base64": true})");
  LoadCredentials(nlohmann::json::array({Secret("b", "HS256", "***")}).dump(), &bad);
  CHECK(Message(bad, HsToken("HS256", "***", R"({"iss":"b"})")) == Msg("Invalid key/secret"));
}

TEST_CASE("jwt authenticate: sub and roles become the identity", "[filters][jwt]") {
  const Config c = MakeConfig();
  Outcome a = Run(
      c, HsToken("HS256", "hs-secret", R"({"iss":"hs","sub":"u-1","roles":["admin","dev",3]})"));
  REQUIRE_FALSE(a.refusal);
  CHECK(a.identity.user_id == "u-1");
  CHECK(a.identity.roles_text == "admin,dev");
  CHECK(a.identity.roles == std::vector<std::string>{"admin", "dev"});
  Outcome b = Run(c, HsToken("HS256", "hs-secret", R"({"iss":"hs","sub":7,"roles":"ops, qa"})"));
  REQUIRE_FALSE(b.refusal);
  CHECK(b.identity.user_id == "7");
  CHECK(b.identity.roles_text == "ops, qa");
  CHECK(b.identity.roles == std::vector<std::string>{"ops", "qa"});
  Outcome d = Run(c, HsToken("HS256", "hs-secret", R"({"iss":"hs","roles":{"x":1}})"));
  REQUIRE_FALSE(d.refusal);
  CHECK_FALSE(d.identity.user_id.has_value());
  CHECK_FALSE(d.identity.roles_text.has_value());
  CHECK(d.identity.roles.empty());
  const Config groups = MakeConfig(R"({"roles_claim_name": "groups"})");
  Outcome g = Run(groups, HsToken("HS256", "hs-secret", R"({"iss":"hs","groups":["x"]})"));
  CHECK(g.identity.roles_text == "x");
}

TEST_CASE("jwt roles: required_roles needs one match", "[filters][jwt]") {
  const Config open = MakeConfig();
  CHECK(RolesAllowed(open, {}));
  const Config c = MakeConfig(R"({"required_roles": ["admin", "ops"]})");
  CHECK(RolesAllowed(c, {"dev", "ops"}));
  CHECK_FALSE(RolesAllowed(c, {"dev"}));
  CHECK_FALSE(RolesAllowed(c, {}));
  CHECK_FALSE(RolesAllowed(c, {"Admin"}));
}

TEST_CASE("jwt extract: bearer headers as Kong's regex reads them", "[filters][jwt]") {
  CHECK(BearerToken("Bearer abc") == "abc");
  CHECK(BearerToken("bearer abc") == "abc");
  CHECK(BearerToken("  Bearer \t abc.def ") == "abc.def ");
  CHECK(BearerToken("Token Bearer x") == "x");
  CHECK_FALSE(BearerToken("BEARER abc").has_value());
  CHECK_FALSE(BearerToken("Bearerabc").has_value());
  CHECK_FALSE(BearerToken("Basic dXNlcjpwYXNz").has_value());
  CHECK_FALSE(BearerToken("Bearer").has_value());
  CHECK_FALSE(BearerToken("Bearer ").has_value());
  CHECK(BearerToken("Bearer  ") == " ");
  CHECK_FALSE(BearerToken("abc").has_value());
}

TEST_CASE("jwt extract: query arguments", "[filters][jwt]") {
  CHECK(QueryValues("jwt=a.b.c", "jwt") == std::vector<std::string>{"a.b.c"});
  CHECK(QueryValues("x=1&jwt=a&jwt=b&jwtx=c", "jwt") == std::vector<std::string>{"a", "b"});
  CHECK(QueryValues("j%77t=a%2Eb+c", "jwt") == std::vector<std::string>{"a.b c"});
  CHECK(QueryValues("jwt&jwt=", "jwt") == std::vector<std::string>{""});
  CHECK(QueryValues("jwt=%zz", "jwt") == std::vector<std::string>{"%zz"});
  CHECK(QueryValues("", "jwt").empty());
}

TEST_CASE("jwt extract: cookies", "[filters][jwt]") {
  CHECK(CookieValue("a=1; jwt=tok; b=2", "jwt") == "tok");
  CHECK(CookieValue("JWT=tok", "jwt") == "tok");
  CHECK(CookieValue("xjwt=1;jwt=2", "jwt") == "2");
  CHECK(CookieValue("jwt=1; jwt=2", "jwt") == "1");
  CHECK_FALSE(CookieValue("a=1; b=2", "jwt").has_value());
  CHECK_FALSE(CookieValue("", "jwt").has_value());
}

TEST_CASE("jwt extract: the token set drops empties and repeats", "[filters][jwt]") {
  std::vector<std::string> t;
  AddToken(&t, "a");
  AddToken(&t, "");
  AddToken(&t, "a");
  AddToken(&t, "b");
  CHECK(t == std::vector<std::string>{"a", "b"});
}

}  // namespace
}  // namespace sluice::filters::jwt

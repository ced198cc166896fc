// SPDX-License-Identifier: Apache-2.0
// Base64url, token decoding with Kong's complaints, signatures for every algorithm, and the
// registered-claim checks.
#include "filters/jwt/token.h"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "filters/jwt/base64url.h"
#include "filters/jwt/crypto.h"
#include "tests/filters/jwt/test_tokens.h"

namespace sluice::filters::jwt {
namespace {

using namespace testing;

TEST_CASE("jwt base64url: round trip and Kong's leniency", "[filters][jwt]") {
  CHECK(Base64UrlEncode("") == "");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode("fo") == "Zm8");
  CHECK(Base64UrlEncode("foo") == "Zm9v");
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(Base64UrlDecode("Zg") == "f");
  CHECK(Base64UrlDecode("Zg==") == "f");
  CHECK(Base64UrlDecode("Zm8=") == "fo");
  CHECK(Base64UrlDecode("-_8") == "\xfb\xff");
  CHECK(Base64UrlDecode("+/8") == "\xfb\xff");  // the standard alphabet too
  CHECK(Base64UrlDecode("") == "");
  CHECK_FALSE(Base64UrlDecode("Z").has_value());      // 4n+1 characters
  CHECK_FALSE(Base64UrlDecode("Zm9v!").has_value());  // not in either alphabet
  CHECK_FALSE(Base64UrlDecode("Zg=").has_value());    // padding that does not complete
  CHECK_FALSE(Base64UrlDecode("Z=g=").has_value());   // padding inside
  CHECK_FALSE(Base64UrlDecode("Zm 9v").has_value());
}

TEST_CASE("jwt token: a well-formed token decodes", "[filters][jwt]") {
  const std::string raw = HsToken("HS256", "k", R"({"iss":"a","n":1})");
  Token t;
  REQUIRE(ParseToken(raw, &t) == TokenError::kNone);
  CHECK(t.algorithm->name == "HS256");
  CHECK(t.header["typ"] == "JWT");
  CHECK(t.claims["iss"] == "a");
  CHECK(t.signature.size() == 32);
  CHECK(t.signing_input == raw.substr(0, raw.rfind('.')));
}

TEST_CASE("jwt token: malformed tokens get Kong's complaint", "[filters][jwt]") {
  const std::string h = Base64UrlEncode(R"({"alg":"HS256"})");
  const std::string c = Base64UrlEncode(R"({"iss":"a"})");

  struct Case {
    std::string token;
    TokenError error;
  };

  const Case k = GENERATE_COPY(
      Case{"", TokenError::kInvalidJson}, Case{"garbage", TokenError::kInvalidJson},
      Case{"!!!." + c + ".c2ln", TokenError::kInvalidJson},  // bad base64
      Case{Base64UrlEncode("{nope") + "." + c + ".c2ln", TokenError::kInvalidJson},
      Case{Base64UrlEncode("[1]") + "." + c + ".c2ln", TokenError::kInvalidJson},  // not an object
      Case{h + ".!!!.c2ln", TokenError::kInvalidJson},
      Case{h + "." + Base64UrlEncode("\"str\"") + ".c2ln", TokenError::kInvalidJson},
      Case{Base64UrlEncode(R"({"typ":"JWT"})") + "." + c + ".c2ln", TokenError::kInvalidAlg},
      Case{Base64UrlEncode(R"({"alg":"none"})") + "." + c + ".", TokenError::kInvalidAlg},
      Case{Base64UrlEncode(R"({"alg":"hs256"})") + "." + c + ".c2ln", TokenError::kInvalidAlg},
      Case{Base64UrlEncode(R"({"alg":256})") + "." + c + ".c2ln", TokenError::kInvalidAlg},
      Case{h, TokenError::kInvalidClaims}, Case{h + "." + c, TokenError::kInvalidSignature},
      Case{h + "." + c + ".!!", TokenError::kInvalidSignature},
      Case{h + "." + c + ".c2ln.c2ln", TokenError::kInvalidSignature});
  INFO(k.token);
  Token t;
  CHECK(ParseToken(k.token, &t) == k.error);
}

TEST_CASE("jwt token: an empty signature segment decodes (and later fails to verify)",
          "[filters][jwt]") {
  Token t;
  const std::string raw = SigningInput(R"({"alg":"HS256"})", R"({"iss":"a"})") + ".";
  REQUIRE(ParseToken(raw, &t) == TokenError::kNone);
  CHECK(t.signature.empty());
  CHECK_FALSE(VerifyHmac(*t.algorithm, "k", t.signing_input, t.signature));
}

TEST_CASE("jwt signatures: every HMAC algorithm verifies and rejects", "[filters][jwt]") {
  const char* name = GENERATE("HS256", "HS384", "HS512");
  const Algorithm& alg = *FindAlgorithm(name);
  const std::string input = SigningInput(R"({"alg":"x"})", R"({"iss":"a"})");
  const std::string sig = Sign(name, input, nullptr, "secret");
  CHECK(VerifyHmac(alg, "secret", input, sig));
  CHECK_FALSE(VerifyHmac(alg, "secreT", input, sig));
  CHECK_FALSE(VerifyHmac(alg, "secret", input + "x", sig));
  CHECK_FALSE(VerifyHmac(alg, "secret", input, sig.substr(1)));
}

TEST_CASE("jwt base64url: every length and position decodes as the bitwise reference",
          "[filters][jwt]") {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const std::string enc = Base64UrlEncode(bytes);
    CHECK(Base64UrlDecode(enc) == bytes);
    if (enc.size() % 4 != 0)
      CHECK(Base64UrlDecode(enc + std::string(4 - enc.size() % 4, '=')) == bytes);
    for (size_t i = 0; i < enc.size(); ++i) {
      std::string bad = enc;
      bad[i] = '.';  // a bad character in a full quantum or in the tail
      CHECK_FALSE(Base64UrlDecode(bad).has_value());
    }
    bytes.push_back(static_cast<char>(n * 37 + 11));
  }
  CHECK(Base64UrlDecode("Zh") == "f");  // unused low bits are ignored, as Kong's decoder does
  CHECK(Base64UrlDecode("Zm9") == "fo");
  CHECK(Base64UrlDecode("Zm9v\x80").has_value() == false);
}

TEST_CASE("jwt signatures: a prepared HMAC key verifies like the one-shot path", "[filters][jwt]") {
  const char* name = GENERATE("HS256", "HS384", "HS512");
  const Algorithm& alg = *FindAlgorithm(name);
  const std::string input = SigningInput(R"({"alg":"x"})", R"({"iss":"a"})");
  const std::string sig = Sign(name, input, nullptr, "secret");
  const HmacKey key = PrepareHmac(alg, "secret");
  REQUIRE(key);
  for (int i = 0; i < 3; ++i) {  // the ready context is reset between uses
    CHECK(VerifyHmac(key, input, sig));
    CHECK_FALSE(VerifyHmac(key, input + "x", sig));
    CHECK_FALSE(VerifyHmac(key, input, sig.substr(1)));
    CHECK_FALSE(VerifyHmac(key, input, ""));
  }
  CHECK_FALSE(VerifyHmac(PrepareHmac(alg, "secreT"), input, sig));
  CHECK_FALSE(VerifyHmac(HmacKey(), input, sig));
  CHECK_FALSE(PrepareHmac(*FindAlgorithm("RS256"), "secret"));
  // An empty key is a key, as with HMAC().
  CHECK(VerifyHmac(PrepareHmac(alg, ""), input, Sign(name, input, nullptr, "")));
}

TEST_CASE("jwt signatures: one prepared HMAC key shared by more threads than ready contexts",
          "[filters][jwt]") {
  const Algorithm& alg = *FindAlgorithm("HS256");
  const HmacKey key = PrepareHmac(alg, "shared-secret");
  REQUIRE(key);
  constexpr int kThreads = 24;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string input =
          SigningInput(R"({"alg":"HS256"})", R"({"iss":"t)" + std::to_string(t) + R"("})");
      const std::string sig = Sign("HS256", input, nullptr, "shared-secret");
      for (int i = 0; i < 300; ++i) {
        if (!VerifyHmac(key, input, sig) || VerifyHmac(key, input + "x", sig))
          ++failures[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& th : threads)
    th.join();
  for (int f : failures)
    CHECK(f == 0);
}

TEST_CASE("jwt signatures: every key algorithm verifies and rejects a tampered token",
          "[filters][jwt]") {
  struct Case {
    const char* alg;
    Key key;
    Key wrong;
  };

  const Case k =
      GENERATE(Case{"RS256", RsaKey(), OtherRsaKey()}, Case{"RS384", RsaKey(), OtherRsaKey()},
               Case{"RS512", RsaKey(), OtherRsaKey()}, Case{"PS256", RsaKey(), OtherRsaKey()},
               Case{"PS384", RsaKey(), OtherRsaKey()}, Case{"PS512", RsaKey(), OtherRsaKey()},
               Case{"ES256", EcKey(256), nullptr}, Case{"ES384", EcKey(384), nullptr},
               Case{"ES512", EcKey(521), nullptr}, Case{"EdDSA", Ed25519Key(), nullptr});
  INFO(k.alg);
  const Algorithm& alg = *FindAlgorithm(k.alg);
  // Verify with the public half only, as the gateway does.
  PublicKey pub = LoadPublicKey(PublicPem(k.key.get()));
  REQUIRE(pub != nullptr);
  CHECK(CheckKey(alg, pub.get()).empty());
  const std::string input = SigningInput(R"({"alg":"x"})", R"({"iss":"a"})");
  const std::string sig = Sign(k.alg, input, k.key.get());
  CHECK(VerifyWithKey(alg, pub.get(), input, sig));
  CHECK_FALSE(VerifyWithKey(alg, pub.get(), input + "x", sig));
  std::string flipped = sig;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
  CHECK_FALSE(VerifyWithKey(alg, pub.get(), input, flipped));
  CHECK_FALSE(VerifyWithKey(alg, pub.get(), input, sig.substr(1)));
  CHECK_FALSE(VerifyWithKey(alg, pub.get(), input, ""));
  if (k.wrong)
    CHECK_FALSE(VerifyWithKey(alg, k.wrong.get(), input, sig));
}

TEST_CASE("jwt signatures: ECDSA wants raw R||S, not DER", "[filters][jwt]") {
  const Algorithm& alg = *FindAlgorithm("ES256");
  const std::string input = "a.b";
  const std::string raw = Sign("ES256", input, EcKey(256).get());
  REQUIRE(raw.size() == 64);
  CHECK(VerifyWithKey(alg, EcKey(256).get(), input, raw));
  // A 65-byte signature is refused outright (Kong checks the size too).
  CHECK_FALSE(VerifyWithKey(alg, EcKey(256).get(), input, raw + "x"));
  // An ES256 signature against an ES384 key: wrong curve, refused.
  CHECK_FALSE(VerifyWithKey(*FindAlgorithm("ES384"), EcKey(256).get(), input, raw));
}

TEST_CASE("jwt signatures: RS256 and PS256 are not interchangeable", "[filters][jwt]") {
  const std::string input = "a.b";
  const std::string pss = Sign("PS256", input, RsaKey().get());
  const std::string pkcs1 = Sign("RS256", input, RsaKey().get());
  CHECK_FALSE(VerifyWithKey(*FindAlgorithm("RS256"), RsaKey().get(), input, pss));
  CHECK_FALSE(VerifyWithKey(*FindAlgorithm("PS256"), RsaKey().get(), input, pkcs1));
}

TEST_CASE("jwt algorithms: names are exact", "[filters][jwt]") {
  CHECK(FindAlgorithm("HS256") != nullptr);
  CHECK(FindAlgorithm("EdDSA") != nullptr);
  CHECK(FindAlgorithm("none") == nullptr);
  CHECK(FindAlgorithm("NONE") == nullptr);
  CHECK(FindAlgorithm("hs256") == nullptr);
  CHECK(FindAlgorithm("") == nullptr);
}

TEST_CASE("jwt public keys: PKCS#1 RSA PEM loads, garbage does not", "[filters][jwt]") {
  CHECK(LoadPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n") == nullptr);
  CHECK(LoadPublicKey("") == nullptr);
  CHECK(LoadPublicKey(PublicPem(RsaKey().get())) != nullptr);
  const std::string pkcs1 = Pkcs1Pem(RsaKey().get());
  REQUIRE(pkcs1.find("BEGIN RSA PUBLIC KEY") != std::string::npos);
  PublicKey k = LoadPublicKey(pkcs1);
  REQUIRE(k != nullptr);
  CHECK(
      VerifyWithKey(*FindAlgorithm("RS256"), k.get(), "a.b", Sign("RS256", "a.b", RsaKey().get())));
}

Token Parsed(const std::string& claims) {
  Token t;
  REQUIRE(ParseToken(HsToken("HS256", "k", claims), &t) == TokenError::kNone);
  return t;
}

Config Verifying(const std::string& json) { return ParseConfig(json); }

TEST_CASE("jwt claims: exp and nbf, only when configured", "[filters][jwt]") {
  const double now = 1'700'000'000;
  const Config none = Verifying("{}");
  const Config exp = Verifying(R"({"claims_to_verify": ["exp"]})");
  const Config nbf = Verifying(R"({"claims_to_verify": ["nbf"]})");
  const Config both = Verifying(R"({"claims_to_verify": ["nbf", "exp"]})");

  CHECK(CheckClaims(Parsed(R"({"exp":1})"), none, now).empty());
  CHECK(CheckClaims(Parsed(R"({"exp":1700000001})"), exp, now).empty());
  CHECK(CheckClaims(Parsed(R"({"exp":1700000000})"), exp, now).dump() ==
        R"({"exp":"token expired"})");
  CHECK(CheckClaims(Parsed(R"({"exp":1699999999.5})"), exp, now).dump() ==
        R"({"exp":"token expired"})");
  CHECK(CheckClaims(Parsed(R"({"exp":"1800000000"})"), exp, now).dump() ==
        R"({"exp":"must be a number"})");
  CHECK(CheckClaims(Parsed(R"({})"), exp, now).dump() == R"({"exp":"must be a number"})");
  CHECK(CheckClaims(Parsed(R"({"nbf":1700000000})"), nbf, now).empty());
  CHECK(CheckClaims(Parsed(R"({"nbf":1700000001})"), nbf, now).dump() ==
        R"({"nbf":"token not valid yet"})");
  CHECK(CheckClaims(Parsed(R"({"nbf":1700000001})"), exp, now).dump() ==
        R"({"exp":"must be a number"})");
  CHECK(CheckClaims(Parsed(R"({"iss":"a"})"), both, now).dump() ==
        R"({"nbf":"must be a number","exp":"must be a number"})");
  CHECK(CheckClaims(Parsed(R"({"nbf":true,"exp":1})"), both, now).dump() ==
        R"({"nbf":"must be a number","exp":"token expired"})");
}

TEST_CASE("jwt claims: maximum_expiration bounds exp - now", "[filters][jwt]") {
  const double now = 1'700'000'000;
  const Config c = Verifying(R"({"claims_to_verify": ["exp"], "maximum_expiration": 60})");
  CHECK(CheckClaims(Parsed(R"({"exp":1700000060})"), c, now).empty());
  CHECK(CheckClaims(Parsed(R"({"exp":1700000061})"), c, now).dump() ==
        R"({"exp":"exceeds maximum allowed expiration"})");
  // An expired token reports expiry, not the maximum.
  CHECK(CheckClaims(Parsed(R"({"exp":1})"), c, now).dump() == R"({"exp":"token expired"})");
  CHECK(CheckClaims(Parsed(R"({})"), c, now).dump() == R"({"exp":"must be a number"})");
}

}  // namespace
}  // namespace sluice::filters::jwt

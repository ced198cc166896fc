// SPDX-License-Identifier: Apache-2.0
// The jwt filter end to end (reference/kong.md §4): build/sluice loads build/filters/jwt.so,
// consumers and jwt_secrets come from the YAML, tokens are signed here with OpenSSL, and
// sluice-echo shows what reached the upstream.
#include <ctime>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

constexpr const char* kAliceId = "8f0c1a52-6f7e-4c1e-9d57-5f1b0c7a1a01";
constexpr const char* kGuestId = "8f0c1a52-6f7e-4c1e-9d57-5f1b0c7a1a02";
constexpr const char* kBobId = "8f0c1a52-6f7e-4c1e-9d57-5f1b0c7a1a03";

constexpr const char* kConfig = R"(_format_version: "3.0"
services:
  - name: api
    url: ${UP}
    routes:
      - name: jwt
        paths: ["/jwt"]
        plugins:
          - name: jwt
            config:
              claims_to_verify: [exp]
              cookie_names: [session]
      - name: roles
        paths: ["/roles"]
        plugins:
          - name: jwt
            config:
              required_roles: [admin]
      - name: anon
        paths: ["/anon"]
        plugins:
          - name: jwt
            config:
              anonymous: guest
consumers:
  - id: ${ALICE_ID}
    username: alice
    custom_id: alice-42
    jwt_secrets:
      - key: alice-key
        secret: alice-secret
  - id: ${GUEST_ID}
    username: guest
  - id: ${BOB_ID}
    username: bob
    jwt_secrets:
      - key: bob-rsa
        algorithm: RS256
        rsa_public_key: |
${BOB_PEM}
)";

std::string B64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0)
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

std::string Hs256(std::string_view secret, const std::string& claims) {
  std::string input = B64Url(R"({"alg":"HS256","typ":"JWT"})") + "." + B64Url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + B64Url(std::string(reinterpret_cast<char*>(mac), len));
}

// One RSA key for the process: the private half signs, the public half goes in the YAML.
EVP_PKEY* BobKey() {
  static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  return key;
}

std::string BobPem() {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, BobKey());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// The PEM as the body of the YAML block scalar in kConfig.
std::string BobPemIndented() {
  const std::string pem = BobPem();
  std::string out;
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    out += "          " + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string Rs256(const std::string& claims) {
  std::string input = B64Url(R"({"alg":"RS256"})") + "." + B64Url(claims);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, BobKey());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return input + "." + B64Url(sig);
}

std::string In(long seconds) { return std::to_string(std::time(nullptr) + seconds); }

std::string AliceToken(const std::string& extra_claims = "") {
  return Hs256("alice-secret",
               R"({"iss":"alice-key","sub":"user-7","exp":)" + In(3600) + extra_claims + "}");
}

struct Gateway {
  Gateway()
      : sluice(Substitute(kConfig, {{"UP", up.url()},
                                    {"ALICE_ID", kAliceId},
                                    {"GUEST_ID", kGuestId},
                                    {"BOB_ID", kBobId},
                                    {"BOB_PEM", BobPemIndented()}})) {}

  EchoServer up{"up"};
  Sluice sluice;
};

void CheckRefused(const CurlResult& r, int status, const std::string& body,
                  const std::string& challenge) {
  INFO(r.stderr_text << r.body);
  REQUIRE(r.exit_code == 0);
  CHECK(r.status == status);
  CHECK(r.body == body);
  CHECK(r.Header("content-type") == "application/json; charset=utf-8");
  CHECK(r.Header("www-authenticate") == challenge);
}

TEST_CASE("jwt: 401 for a missing, invalid or expired token", "[integration][jwt]") {
  Gateway gw;
  const std::string url = gw.sluice.url("/jwt/x");
  CheckRefused(Curl(url), 401, R"({"message":"Unauthorized"})", "Bearer");
  CheckRefused(Curl(url, "-H", "Authorization: Basic YTpi"), 401, R"({"message":"Unauthorized"})",
               "Bearer");
  const std::string invalid = R"(Bearer error="invalid_token")";
  CheckRefused(Curl(url, "-H", "Authorization: Bearer not-a-jwt"), 401,
               R"({"message":"Bad token; invalid JSON"})", invalid);
  CheckRefused(Curl(url, "-H", "Authorization: Bearer " + Hs256("wrong", R"({"iss":"alice-key"})")),
               401, R"({"message":"Invalid signature"})", invalid);
  CheckRefused(Curl(url, "-H", "Authorization: Bearer " + Hs256("x", R"({"iss":"who","exp":1})")),
               401, R"({"message":"No credentials found for given 'iss'"})", invalid);
  CheckRefused(Curl(url, "-H",
                    "Authorization: Bearer " +
                        Hs256("alice-secret", R"({"iss":"alice-key","exp":)" + In(-60) + "}")),
               401, R"({"exp":"token expired"})", invalid);
  // Two distinct tokens (header and query) are refused, however valid (anti-smuggling).
  CheckRefused(Curl(url + "?jwt=" + Hs256("alice-secret", R"({"iss":"alice-key"})"), "-H",
                    "Authorization: Bearer " + AliceToken()),
               401, R"({"message":"Multiple tokens provided"})", invalid);
  // Nothing reached the upstream.
  CHECK(gw.up.GetStats().requests == 0);
}

TEST_CASE("jwt: a valid token forwards the identity, spoofed copies are gone",
          "[integration][jwt]") {
  Gateway gw;
  const CurlResult r =
      Curl(gw.sluice.url("/jwt/x"), "-H",
           "Authorization: Bearer " + AliceToken(R"(,"roles":["dev","ops"])"), "-H",
           "X-Consumer-ID: evil", "-H", "X-User-ID: root", "-H", "X-User-Roles: admin", "-H",
           "X-Anonymous-Consumer: true", "-H", "X-Credential-Identifier: forged", "-H",
           "X-Consumer-Custom-ID: forged");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  const nlohmann::json h = r.Json()["headers"];
  CHECK(h["x-consumer-id"] == kAliceId);
  CHECK(h["x-consumer-username"] == "alice");
  CHECK(h["x-consumer-custom-id"] == "alice-42");
  CHECK(h["x-credential-identifier"] == "alice-key");
  CHECK(h["x-user-id"] == "user-7");
  CHECK(h["x-user-roles"] == "dev,ops");
  CHECK_FALSE(h.contains("x-anonymous-consumer"));
  CHECK(h["authorization"].get<std::string>().rfind("Bearer ", 0) == 0);  // Kong keeps it
}

TEST_CASE("jwt: a token without roles forwards no X-User-Roles", "[integration][jwt]") {
  Gateway gw;
  const CurlResult r = Curl(gw.sluice.url("/jwt/x"), "-H", "Authorization: Bearer " + AliceToken(),
                            "-H", "X-User-Roles: admin");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.Json()["headers"].contains("x-user-roles"));
}

TEST_CASE("jwt: the token may come from the query or a cookie", "[integration][jwt]") {
  Gateway gw;
  const CurlResult q = Curl(gw.sluice.url("/jwt/x?a=1&jwt=" + AliceToken()));
  INFO(q.stderr_text << q.body);
  CHECK(q.status == 200);
  CHECK(q.Json()["headers"]["x-consumer-username"] == "alice");
  const CurlResult c =
      Curl(gw.sluice.url("/jwt/x"), "-H", "Cookie: theme=dark; session=" + AliceToken());
  INFO(c.stderr_text << c.body);
  CHECK(c.status == 200);
  CHECK(c.Json()["headers"]["x-credential-identifier"] == "alice-key");
}

TEST_CASE("jwt: an RS256 credential from the YAML verifies", "[integration][jwt]") {
  Gateway gw;
  const CurlResult r =
      Curl(gw.sluice.url("/jwt/x"), "-H",
           "Authorization: Bearer " + Rs256(R"({"iss":"bob-rsa","exp":)" + In(600) + "}"));
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.Json()["headers"]["x-consumer-id"] == kBobId);
  CHECK_FALSE(r.Json()["headers"].contains("x-consumer-custom-id"));
  // The same key's public PEM as an HS256 secret: algorithm confusion.
  const CurlResult confused = Curl(
      gw.sluice.url("/jwt/x"), "-H",
      "Authorization: Bearer " + Hs256(BobPem(), R"({"iss":"bob-rsa","exp":)" + In(600) + "}"));
  CHECK(confused.status == 401);
  CHECK(confused.body == R"({"message":"Invalid algorithm"})");
}

TEST_CASE("jwt: required_roles answers 403 without a matching role", "[integration][jwt]") {
  Gateway gw;
  const CurlResult dev = Curl(gw.sluice.url("/roles"), "-H",
                              "Authorization: Bearer " + AliceToken(R"(,"roles":["dev"])"));
  INFO(dev.stderr_text << dev.body);
  CHECK(dev.status == 403);
  CHECK(dev.body == R"({"message":"Insufficient permissions"})");
  CHECK(dev.Header("content-type") == "application/json; charset=utf-8");
  const CurlResult admin = Curl(gw.sluice.url("/roles"), "-H",
                                "Authorization: Bearer " + AliceToken(R"(,"roles":"admin")"));
  INFO(admin.stderr_text << admin.body);
  CHECK(admin.status == 200);
  CHECK(admin.Json()["headers"]["x-user-roles"] == "admin");
}

TEST_CASE("jwt: anonymous maps a failed authentication to the guest consumer",
          "[integration][jwt]") {
  Gateway gw;
  const CurlResult r = Curl(gw.sluice.url("/anon"), "-H", "Authorization: Bearer bad", "-H",
                            "X-User-ID: root", "-H", "X-Credential-Identifier: forged");
  INFO(r.stderr_text << r.body);
  REQUIRE(r.status == 200);
  const nlohmann::json h = r.Json()["headers"];
  CHECK(h["x-anonymous-consumer"] == "true");
  CHECK(h["x-consumer-id"] == kGuestId);
  CHECK(h["x-consumer-username"] == "guest");
  CHECK_FALSE(h.contains("x-credential-identifier"));
  CHECK_FALSE(h.contains("x-user-id"));
  // A good token on the same route is a real authentication.
  const CurlResult ok = Curl(gw.sluice.url("/anon"), "-H", "Authorization: Bearer " + AliceToken());
  REQUIRE(ok.status == 200);
  CHECK(ok.Json()["headers"]["x-consumer-username"] == "alice");
  CHECK_FALSE(ok.Json()["headers"].contains("x-anonymous-consumer"));
}

}  // namespace
}  // namespace sluice::testing

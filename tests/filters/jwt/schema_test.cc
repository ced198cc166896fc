// SPDX-License-Identifier: Apache-2.0
// The jwt config: every default, every rejection with its field path, and jwt_secrets loading.
#include "filters/jwt/schema.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sluice/filter.hpp>

#include "tests/filters/jwt/test_tokens.h"

namespace sluice::filters::jwt {
namespace {

using testing::EcKey;
using testing::Ed25519Key;
using testing::PublicPem;
using testing::RsaKey;

// The ConfigError text ParseConfig throws for `json`, or "" when it accepts it.
std::string ConfigErrorOf(const std::string& json) {
  try {
    ParseConfig(json);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string CredentialsErrorOf(const nlohmann::json& secrets, const std::string& config = "{}") {
  try {
    Config c = ParseConfig(config);
    LoadCredentials(secrets.dump(), &c);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "";
}

nlohmann::json Secret(const std::string& key, const std::string& algorithm,
                      const std::string& pem = "", const std::string& secret = "s3cr3t") {
  return {{"id", "id-" + key},
          {"key", key},
          {"secret", secret},
          {"rsa_public_key", pem},
          {"algorithm", algorithm},
          {"tags", nlohmann::json::array()},
          {"consumer", {{"id", "c1"}, {"username", "alice"}, {"custom_id", ""}}}};
}

TEST_CASE("jwt schema: an empty config has Kong's defaults", "[filters][jwt]") {
  const Config c = ParseConfig("{}");
  CHECK(c.uri_param_names == std::vector<std::string>{"jwt"});
  CHECK(c.cookie_names.empty());
  CHECK(c.header_names == std::vector<std::string>{"authorization"});
  CHECK(c.claims_to_verify.empty());
  CHECK_FALSE(c.verify_exp);
  CHECK_FALSE(c.verify_nbf);
  CHECK(c.key_claim_name == "iss");
  CHECK_FALSE(c.secret_is_base64);
  CHECK_FALSE(c.anonymous.has_value());
  CHECK(c.run_on_preflight);
  CHECK(c.maximum_expiration == 0);
  CHECK_FALSE(c.realm.has_value());
  CHECK(c.roles_claim_name == "roles");
  CHECK(c.required_roles.empty());
  CHECK(c.credentials.empty());
}

TEST_CASE("jwt schema: every field is read", "[filters][jwt]") {
  const Config c = ParseConfig(R"({
    "uri_param_names": ["token", "t", "token"], "cookie_names": ["session"],
    "header_names": ["x-token"], "claims_to_verify": ["nbf", "exp"], "key_claim_name": "kid",
    "secret_is_base64": true, "anonymous": "guest", "run_on_preflight": false,
    "maximum_expiration": 3600, "realm": "api", "roles_claim_name": "groups",
    "required_roles": ["admin", "ops"]})");
  CHECK(c.uri_param_names == std::vector<std::string>{"token", "t"});  // a set
  CHECK(c.cookie_names == std::vector<std::string>{"session"});
  CHECK(c.header_names == std::vector<std::string>{"x-token"});
  CHECK(c.claims_to_verify == std::vector<std::string>{"nbf", "exp"});
  CHECK(c.verify_exp);
  CHECK(c.verify_nbf);
  CHECK(c.key_claim_name == "kid");
  CHECK(c.secret_is_base64);
  CHECK(c.anonymous == "guest");
  CHECK_FALSE(c.run_on_preflight);
  CHECK(c.maximum_expiration == 3600);
  CHECK(c.realm == "api");
  CHECK(c.roles_claim_name == "groups");
  CHECK(c.required_roles == std::vector<std::string>{"admin", "ops"});
}

TEST_CASE("jwt schema: null fields keep their defaults", "[filters][jwt]") {
  const Config c = ParseConfig(R"({"anonymous": null, "claims_to_verify": null})");
  CHECK_FALSE(c.anonymous.has_value());
  CHECK(c.claims_to_verify.empty());
}

TEST_CASE("jwt schema: rejections name the field", "[filters][jwt]") {
  struct Case {
    const char* json;
    const char* error;
  };

  const Case c = GENERATE(
      Case{R"({"foo": 1})", "config.foo: unknown field"},
      Case{R"([])", "config: expected an object"},
      Case{R"({"uri_param_names": "jwt"})", "config.uri_param_names: expected an array"},
      Case{R"({"uri_param_names": [1]})", "config.uri_param_names[0]: expected a string"},
      Case{R"({"uri_param_names": [""]})", "config.uri_param_names[0]: length must be at least 1"},
      Case{R"({"cookie_names": [true]})", "config.cookie_names[0]: expected a string"},
      Case{R"({"header_names": {}})", "config.header_names: expected an array"},
      Case{R"({"header_names": ["a", ""]})", "config.header_names[1]: length must be at least 1"},
      Case{R"({"claims_to_verify": ["exp", "iat"]})",
           "config.claims_to_verify[1]: expected one of exp, nbf"},
      Case{R"({"claims_to_verify": "exp"})", "config.claims_to_verify: expected an array"},
      Case{R"({"key_claim_name": 5})", "config.key_claim_name: expected a string"},
      Case{R"({"key_claim_name": ""})", "config.key_claim_name: length must be at least 1"},
      Case{R"({"secret_is_base64": "yes"})", "config.secret_is_base64: expected a boolean"},
      Case{R"({"anonymous": 7})", "config.anonymous: expected a string"},
      Case{R"({"anonymous": ""})", "config.anonymous: length must be at least 1"},
      Case{R"({"run_on_preflight": 0})", "config.run_on_preflight: expected a boolean"},
      Case{R"({"maximum_expiration": "60"})", "config.maximum_expiration: expected a number"},
      Case{R"({"maximum_expiration": -1})",
           "config.maximum_expiration: value should be between 0 and 31536000"},
      Case{R"({"maximum_expiration": 31536001, "claims_to_verify": ["exp"]})",
           "config.maximum_expiration: value should be between 0 and 31536000"},
      Case{R"({"maximum_expiration": 60})",
           "config.claims_to_verify: must contain exp when maximum_expiration is greater than 0"},
      Case{R"({"maximum_expiration": 60, "claims_to_verify": ["nbf"]})",
           "config.claims_to_verify: must contain exp when maximum_expiration is greater than 0"},
      Case{R"({"realm": false})", "config.realm: expected a string"},
      Case{R"({"roles_claim_name": []})", "config.roles_claim_name: expected a string"},
      Case{R"({"roles_claim_name": ""})", "config.roles_claim_name: length must be at least 1"},
      Case{R"({"required_roles": "admin"})", "config.required_roles: expected an array"},
      Case{R"({"required_roles": ["admin", 1]})", "config.required_roles[1]: expected a string"},
      Case{R"({"uri_param_names": [})", "config: invalid JSON at offset 21: unexpected character"});
  INFO(c.json);
  CHECK(ConfigErrorOf(c.json) == c.error);
}

TEST_CASE("jwt schema: maximum_expiration with exp verified is accepted", "[filters][jwt]") {
  CHECK(ConfigErrorOf(R"({"maximum_expiration": 60, "claims_to_verify": ["exp"]})").empty());
  CHECK(ConfigErrorOf(R"({"maximum_expiration": 31536000, "claims_to_verify": ["exp"]})").empty());
}

TEST_CASE("jwt credentials: indexed by key with their consumer", "[filters][jwt]") {
  Config c = ParseConfig("{}");
  nlohmann::json secrets = nlohmann::json::array(
      {Secret("k-hs", "HS384"), Secret("k-rs", "RS256", PublicPem(RsaKey().get())),
       Secret("k-es", "ES256", PublicPem(EcKey(256).get())),
       Secret("k-ed", "EdDSA", PublicPem(Ed25519Key().get()))});
  secrets[0]["consumer"] = {{"id", "c2"}, {"username", ""}, {"custom_id", "cust-2"}};
  LoadCredentials(secrets.dump(), &c);
  REQUIRE(c.credentials.size() == 4);
  const Credential& hs = c.credentials.at("k-hs");
  CHECK(hs.id == "id-k-hs");
  CHECK(hs.algorithm->name == "HS384");
  CHECK(hs.secret == "s3cr3t");
  CHECK(hs.hmac != nullptr);  // the key is set up once here, not per request
  CHECK(hs.consumer.id == "c2");
  CHECK(hs.consumer.username.empty());
  CHECK(hs.consumer.custom_id == "cust-2");
  CHECK(c.credentials.at("k-rs").public_key != nullptr);
  CHECK(c.credentials.at("k-rs").hmac == nullptr);
  CHECK(c.credentials.at("k-es").public_key != nullptr);
  CHECK(c.credentials.at("k-ed").algorithm->name == "EdDSA");
}

TEST_CASE("jwt credentials: algorithm defaults to HS256, empty ones are unusable",
          "[filters][jwt]") {
  Config c = ParseConfig("{}");
  nlohmann::json a = Secret("a", "");
  a.erase("algorithm");
  nlohmann::json b = Secret("b", "HS256", "", "");
  nlohmann::json e = Secret("e", "ES384");  // Kong does not require the key for ES*
  LoadCredentials(nlohmann::json::array({a, b, e, Secret("", "HS256")}).dump(), &c);
  CHECK(c.credentials.size() == 3);
  CHECK(c.credentials.at("a").algorithm->name == "HS256");
  CHECK_FALSE(c.credentials.at("b").secret.has_value());
  CHECK(c.credentials.at("b").hmac == nullptr);
  CHECK(c.credentials.at("e").public_key == nullptr);
}

TEST_CASE("jwt credentials: base64 secrets are decoded when configured", "[filters][jwt]") {
  SECTION("url alphabet") {
    Config c = ParseConfig(R"({"secret_is_base64": true})");
    LoadCredentials(nlohmann::json::array({Secret("k", "HS256", "", "_-8")}).dump(), &c);
    CHECK(c.credentials.at("k").secret == std::string("\xff\xef", 2));
  }
  SECTION("standard alphabet with padding") {
    Config c = ParseConfig(R"({"secret_is_base64": true})");
    LoadCredentials(nlohmann::json::array({Secret("k", "HS256", "", "c2VjcmV0")}).dump(), &c);
    CHECK(c.credentials.at("k").secret == "secret");
  }
  SECTION("not base64: the credential has no usable secret") {
    Config c = ParseConfig(R"({"secret_is_base64": true})");
    LoadCredentials(nlohmann::json::array({Secret("k", "HS256", "", "not base64!")}).dump(), &c);
    CHECK_FALSE(c.credentials.at("k").secret.has_value());
  }
  SECTION("off: the secret is used as written") {
    Config c = ParseConfig("{}");
    LoadCredentials(nlohmann::json::array({Secret("k", "HS256", "", "c2VjcmV0")}).dump(), &c);
    CHECK(c.credentials.at("k").secret == "c2VjcmV0");
  }
}

TEST_CASE("jwt credentials: keys that do not suit the algorithm are refused by name",
          "[filters][jwt]") {
  const std::string who = "config: jwt_secrets key 'k1' of consumer 'alice': ";
  CHECK(CredentialsErrorOf(nlohmann::json::array({Secret("k1", "RS256", "garbage")})) ==
        who + "rsa_public_key: invalid key");
  CHECK(CredentialsErrorOf(
            nlohmann::json::array({Secret("k1", "RS256", PublicPem(EcKey(256).get()))})) ==
        who + "rsa_public_key: expected an RSA public key for RS256");
  CHECK(CredentialsErrorOf(
            nlohmann::json::array({Secret("k1", "ES256", PublicPem(RsaKey().get()))})) ==
        who + "rsa_public_key: expected an EC public key for ES256");
  CHECK(CredentialsErrorOf(
            nlohmann::json::array({Secret("k1", "ES384", PublicPem(EcKey(256).get()))})) ==
        who + "rsa_public_key: expected a P-384 public key for ES384");
  CHECK(CredentialsErrorOf(
            nlohmann::json::array({Secret("k1", "EdDSA", PublicPem(RsaKey().get()))})) ==
        who + "rsa_public_key: expected an Ed25519 or Ed448 public key for EdDSA");
  CHECK(CredentialsErrorOf(nlohmann::json::array({Secret("k1", "HS999")})) ==
        who +
            "algorithm: expected one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, "
            "ES384, ES512, PS256, PS384, PS512, EdDSA");
  CHECK(CredentialsErrorOf("{}") == "config: the host's jwt_secrets are not a JSON array");
}

TEST_CASE("jwt credentials: an HS credential ignores rsa_public_key", "[filters][jwt]") {
  CHECK(CredentialsErrorOf(nlohmann::json::array({Secret("k1", "HS256", "garbage")})).empty());
}

}  // namespace
}  // namespace sluice::filters::jwt

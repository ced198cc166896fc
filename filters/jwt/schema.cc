// SPDX-License-Identifier: Apache-2.0
#include "schema.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include <sluice/filter.hpp>
#include <sluice/json.hpp>

#include "base64url.h"

namespace sluice::filters::jwt {
namespace {

using sluice::json::Value;

// A Kong "set of strings": an array of non-empty strings; repeats are dropped (a set).
std::vector<std::string> StringSet(const Value& v) {
  std::vector<std::string> out;
  for (const Value& e : v.Array()) {
    const std::string& s = e.String();
    if (s.empty())
      e.Fail("length must be at least 1");
    if (std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  }
  return out;
}

const std::string& NonEmptyString(const Value& v) {
  const std::string& s = v.String();
  if (s.empty())
    v.Fail("length must be at least 1");
  return s;
}

}  // namespace

Config ParseConfig(std::string_view json) {
  Value root = sluice::json::Parse(json);
  root.Object();  // "config: expected an object" for anything else
  root.AllowOnly({"uri_param_names", "cookie_names", "header_names", "claims_to_verify",
                  "key_claim_name", "secret_is_base64", "anonymous", "run_on_preflight",
                  "maximum_expiration", "realm", "roles_claim_name", "required_roles"});
  Config c;
  if (const Value* v = root.Find("uri_param_names"))
    c.uri_param_names = StringSet(*v);
  if (const Value* v = root.Find("cookie_names"))
    c.cookie_names = StringSet(*v);
  if (const Value* v = root.Find("header_names"))
    c.header_names = StringSet(*v);
  if (const Value* v = root.Find("claims_to_verify")) {
    for (const Value& e : v->Array()) {
      const std::string& s = e.String();
      if (s != "exp" && s != "nbf")
        e.Fail("expected one of exp, nbf");
      bool& seen = s == "exp" ? c.verify_exp : c.verify_nbf;
      if (!seen)
        c.claims_to_verify.push_back(s);
      seen = true;
    }
  }
  if (const Value* v = root.Find("key_claim_name"))
    c.key_claim_name = NonEmptyString(*v);
  if (const Value* v = root.Find("secret_is_base64"))
    c.secret_is_base64 = v->Bool();
  if (const Value* v = root.Find("anonymous"))
    c.anonymous = NonEmptyString(*v);
  if (const Value* v = root.Find("run_on_preflight"))
    c.run_on_preflight = v->Bool();
  if (const Value* v = root.Find("maximum_expiration")) {
    c.maximum_expiration = v->Number();
    if (!(c.maximum_expiration >= 0 && c.maximum_expiration <= 31536000))
      v->Fail("value should be between 0 and 31536000");
  }
  if (const Value* v = root.Find("realm"))
    c.realm = v->String();
  if (const Value* v = root.Find("roles_claim_name"))
    c.roles_claim_name = NonEmptyString(*v);
  if (const Value* v = root.Find("required_roles"))
    c.required_roles = StringSet(*v);
  // Kong's entity check: a maximum only makes sense when exp is verified.
  if (c.maximum_expiration > 0 && !c.verify_exp) {
    throw sluice::ConfigError(
        "config.claims_to_verify: must contain exp when maximum_expiration is greater than 0");
  }
  return c;
}

void LoadCredentials(std::string_view credentials_json, Config* config) {
  nlohmann::json all = nlohmann::json::parse(credentials_json, nullptr, false);
  if (!all.is_array())
    throw sluice::ConfigError("config: the host's jwt_secrets are not a JSON array");
  auto text = [](const nlohmann::json& obj, const char* name) -> std::string {
    auto it = obj.find(name);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const nlohmann::json& j : all) {
    if (!j.is_object())
      continue;
    Credential cred;
    cred.id = text(j, "id");
    cred.key = text(j, "key");
    std::string algorithm = text(j, "algorithm");
    if (algorithm.empty())
      algorithm = "HS256";  // Kong's default
    if (auto it = j.find("consumer"); it != j.end() && it->is_object()) {
      cred.consumer = {text(*it, "id"), text(*it, "username"), text(*it, "custom_id")};
    }
    // Names the credential in every error, since the host maps the message to the plugin.
    const std::string who =
        "config: jwt_secrets key '" + cred.key + "' of consumer '" +
        (cred.consumer.username.empty() ? cred.consumer.id : cred.consumer.username) + "'";
    cred.algorithm = FindAlgorithm(algorithm);
    if (cred.algorithm == nullptr) {
      throw sluice::ConfigError(who + ": algorithm: expected one of " + AlgorithmNames());
    }
    if (cred.key.empty() || config->credentials.count(cred.key) != 0)
      continue;  // never matches a token (Kong's keys are unique and non-empty)
    if (cred.algorithm->family == Family::kHmac) {
      std::string secret = text(j, "secret");
      if (config->secret_is_base64) {
        // An undecodable secret makes the credential unusable, as in Kong (Invalid key/secret).
        if (std::optional<std::string> raw = Base64UrlDecode(secret))
          secret = std::move(*raw);
        else
          secret.clear();
      }
      if (!secret.empty()) {
        cred.hmac = PrepareHmac(*cred.algorithm, secret);
        cred.secret = std::move(secret);
      }
    } else {
      std::string pem = text(j, "rsa_public_key");
      if (!pem.empty()) {
        cred.public_key = LoadPublicKey(pem);
        if (!cred.public_key)
          throw sluice::ConfigError(who + ": rsa_public_key: invalid key");
        std::string why = CheckKey(*cred.algorithm, cred.public_key.get());
        if (!why.empty()) {
          throw sluice::ConfigError(who + ": rsa_public_key: " + why + " for " +
                                    std::string(cred.algorithm->name));
        }
      }
    }
    std::string key = cred.key;
    config->credentials.emplace(std::move(key), std::move(cred));
  }
}

}  // namespace sluice::filters::jwt

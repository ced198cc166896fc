// SPDX-License-Identifier: Apache-2.0
// The jwt plugin's config (Kong's schema, kong.md §4.1, plus roles) and the jwt_secrets of the
// config's consumers, turned once per plugin entry into an immutable Config shared by workers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto.h"

namespace sluice::filters::jwt {

struct ConsumerRef {
  std::string id;
  std::string username;   // empty when the consumer has none
  std::string custom_id;  // empty when the consumer has none
};

// One jwt_secrets entry, ready to verify with.
struct Credential {
  std::string id;
  std::string key;
  const Algorithm* algorithm = nullptr;
  std::optional<std::string> secret;  // HS*: the HMAC key (base64-decoded when configured)
  HmacKey hmac;                       // HS*: `secret` set up once for verifying; nullptr if none
  PublicKey public_key;               // other families; nullptr when none was given
  ConsumerRef consumer;
};

struct Config {
  std::vector<std::string> uri_param_names{"jwt"};
  std::vector<std::string> cookie_names;
  std::vector<std::string> header_names{"authorization"};
  bool verify_exp = false;
  bool verify_nbf = false;
  std::vector<std::string> claims_to_verify;  // in config order, for the error body
  std::string key_claim_name = "iss";
  bool secret_is_base64 = false;
  std::optional<std::string> anonymous;
  bool run_on_preflight = true;
  double maximum_expiration = 0;
  std::optional<std::string> realm;
  std::string roles_claim_name = "roles";
  std::vector<std::string> required_roles;
  std::unordered_map<std::string, Credential> credentials;  // by key
};

// Parses the plugin's `config:` JSON. Throws sluice::ConfigError("config.<path>: <what>").
Config ParseConfig(std::string_view json);

// Indexes the credentials_get("jwt_secrets") answer into `config` (after ParseConfig, since
// secret_is_base64 decides how secrets are read). Throws sluice::ConfigError naming the
// credential when a public key does not suit its algorithm.
void LoadCredentials(std::string_view credentials_json, Config* config);

}  // namespace sluice::filters::jwt

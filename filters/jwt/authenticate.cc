// SPDX-License-Identifier: Apache-2.0
#include "authenticate.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "token.h"

namespace sluice::filters::jwt {
namespace {

Refusal Refuse(std::string_view message, Challenge challenge = Challenge::kInvalidToken) {
  return Refusal{401, MessageBody(message), challenge};
}

// Lua's `claims[k] or header[k]`: a missing or false claim falls back to the header.
const nlohmann::json* KeyClaim(const Token& token, const std::string& name) {
  for (const nlohmann::json* obj : {&token.claims, &token.header}) {
    auto it = obj->find(name);
    if (it != obj->end() && !(it->is_boolean() && !it->get<bool>()))
      return &*it;
  }
  return nullptr;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

// The roles claim: an array of strings (other elements ignored), or one string that may list
// several roles separated by commas, as X-User-Roles does.
void ReadRoles(const nlohmann::json& claims, const std::string& name, Identity* id) {
  auto it = claims.find(name);
  if (it == claims.end())
    return;
  std::string text;
  if (it->is_string()) {
    text = it->get<std::string>();
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view role = TrimSpaces(rest.substr(0, comma));
      if (!role.empty())
        id->roles.emplace_back(role);
      rest = comma == rest.npos ? std::string_view() : rest.substr(comma + 1);
    }
  } else if (it->is_array()) {
    for (const nlohmann::json& e : *it) {
      if (!e.is_string())
        continue;
      id->roles.push_back(e.get<std::string>());
      if (!text.empty())
        text += ",";
      text += id->roles.back();
    }
  }
  if (!text.empty())
    id->roles_text = std::move(text);
}

}  // namespace

std::string MessageBody(std::string_view text) {
  // Replace rather than throw on bytes that are not UTF-8 (a claim name is config text).
  return nlohmann::json{{"message", text}}.dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace);
}

Outcome Authenticate(const Config& config, const std::vector<std::string>& tokens, double now) {
  Outcome out;
  if (tokens.empty()) {
    out.refusal = Refuse("Unauthorized", Challenge::kBearer);
    return out;
  }
  if (tokens.size() > 1) {
    out.refusal = Refuse("Multiple tokens provided");
    return out;
  }
  Token token;
  if (TokenError e = ParseToken(tokens[0], &token); e != TokenError::kNone) {
    out.refusal = Refuse("Bad token; " + std::string(TokenErrorText(e)));
    return out;
  }
  const std::string& claim = config.key_claim_name;
  const nlohmann::json* key = KeyClaim(token, claim);
  if (key == nullptr) {
    out.refusal = Refuse("No mandatory '" + claim + "' in claims");
    return out;
  }
  if (key->is_string() && key->get_ref<const std::string&>().empty()) {
    out.refusal = Refuse("Invalid '" + claim + "' in claims");
    return out;
  }
  auto found = key->is_string() ? config.credentials.find(key->get<std::string>())
                                : config.credentials.end();
  if (found == config.credentials.end()) {
    out.refusal = Refuse("No credentials found for given '" + claim + "'");
    return out;
  }
  const Credential& cred = found->second;
  // Never the token's own choice: this is what stops algorithm confusion and "none".
  if (cred.algorithm != token.algorithm) {
    out.refusal = Refuse("Invalid algorithm");
    return out;
  }
  bool verified = false;
  if (cred.algorithm->family == Family::kHmac) {
    if (!cred.secret) {
      out.refusal = Refuse("Invalid key/secret");
      return out;
    }
    // The key set up at config time; should OpenSSL have refused it then, try afresh as before.
    verified =
        cred.hmac ? VerifyHmac(cred.hmac, token.signing_input, token.signature)
                  : VerifyHmac(*cred.algorithm, *cred.secret, token.signing_input, token.signature);
  } else {
    if (!cred.public_key) {
      out.refusal = Refuse("Invalid key/secret");
      return out;
    }
    verified =
        VerifyWithKey(*cred.algorithm, cred.public_key.get(), token.signing_input, token.signature);
  }
  if (!verified) {
    out.refusal = Refuse("Invalid signature");
    return out;
  }
  nlohmann::ordered_json errors = CheckClaims(token, config, now);
  if (!errors.empty()) {
    out.refusal = Refusal{401, errors.dump(), Challenge::kInvalidToken};
    return out;
  }
  out.identity.credential = &cred;
  if (auto sub = token.claims.find("sub"); sub != token.claims.end()) {
    if (sub->is_string())
      out.identity.user_id = sub->get<std::string>();
    else if (sub->is_number())
      out.identity.user_id = sub->dump();
  }
  ReadRoles(token.claims, config.roles_claim_name, &out.identity);
  return out;
}

std::string WwwAuthenticate(const Config& config, Challenge challenge) {
  if (challenge == Challenge::kNone)
    return "";
  std::string out = "Bearer";
  if (config.realm)
    out += " realm=\"" + *config.realm + "\"";
  if (challenge == Challenge::kInvalidToken)
    out += config.realm ? ", error=\"invalid_token\"" : " error=\"invalid_token\"";
  return out;
}

bool RolesAllowed(const Config& config, const std::vector<std::string>& roles) {
  if (config.required_roles.empty())
    return true;
  return std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
    return std::find(config.required_roles.begin(), config.required_roles.end(), r) !=
           config.required_roles.end();
  });
}

}  // namespace sluice::filters::jwt

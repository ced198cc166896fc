// SPDX-License-Identifier: Apache-2.0
#include "token.h"

#include <optional>

#include "base64url.h"

namespace sluice::filters::jwt {
namespace {

// A base64url segment holding a JSON object; nullopt otherwise. Kong would fail later with a
// 500 on a non-object; here it counts as invalid JSON.
std::optional<nlohmann::json> DecodeObject(std::string_view segment) {
  std::optional<std::string> bytes = Base64UrlDecode(segment);
  if (!bytes)
    return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

}  // namespace

TokenError ParseToken(std::string_view raw, Token* out) {
  const size_t dot1 = raw.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : raw.find('.', dot1 + 1);
  std::optional<nlohmann::json> header = DecodeObject(raw.substr(0, dot1));
  if (!header)
    return TokenError::kInvalidJson;
  std::optional<nlohmann::json> claims;
  if (dot1 != std::string_view::npos) {
    claims = DecodeObject(raw.substr(dot1 + 1, dot2 == raw.npos ? raw.npos : dot2 - dot1 - 1));
    if (!claims)
      return TokenError::kInvalidJson;
  }
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string())
    return TokenError::kInvalidAlg;
  out->algorithm = FindAlgorithm(alg->get_ref<const std::string&>());
  if (out->algorithm == nullptr)
    return TokenError::kInvalidAlg;  // also "none": it is not an algorithm Kong verifies
  if (!claims)
    return TokenError::kInvalidClaims;
  if (dot2 == std::string_view::npos)
    return TokenError::kInvalidSignature;
  std::string_view sig64 = raw.substr(dot2 + 1);
  // A fourth segment is not JWS compact form; refuse rather than ignore it.
  std::optional<std::string> signature =
      sig64.find('.') == sig64.npos ? Base64UrlDecode(sig64) : std::nullopt;
  if (!signature)
    return TokenError::kInvalidSignature;
  out->signing_input = raw.substr(0, dot2);
  out->header = std::move(*header);
  out->claims = std::move(*claims);
  out->signature = std::move(*signature);
  return TokenError::kNone;
}

std::string_view TokenErrorText(TokenError e) {
  switch (e) {
    case TokenError::kNone:
      return "";
    case TokenError::kInvalidJson:
      return "invalid JSON";
    case TokenError::kInvalidAlg:
      return "invalid alg";
    case TokenError::kInvalidClaims:
      return "invalid claims";
    case TokenError::kInvalidSignature:
      return "invalid signature";
  }
  return "";
}

nlohmann::ordered_json CheckClaims(const Token& token, const Config& config, double now) {
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (const std::string& name : config.claims_to_verify) {
    auto it = token.claims.find(name);
    if (it == token.claims.end() || !it->is_number()) {
      errors[name] = "must be a number";
      continue;
    }
    const double value = it->get<double>();
    if (name == "exp" && value <= now)
      errors[name] = "token expired";
    if (name == "nbf" && value > now)
      errors[name] = "token not valid yet";
  }
  if (errors.empty() && config.maximum_expiration > 0) {
    auto exp = token.claims.find("exp");
    if (exp == token.claims.end() || !exp->is_number() ||
        exp->get<double>() - now > config.maximum_expiration) {
      errors["exp"] = "exceeds maximum allowed expiration";
    }
  }
  return errors;
}

}  // namespace sluice::filters::jwt

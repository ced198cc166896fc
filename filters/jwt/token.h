// SPDX-License-Identifier: Apache-2.0
// A compact JWS (header.claims.signature) decoded the way Kong's jwt_parser does, and Kong's
// registered-claim checks (exp, nbf, maximum_expiration). No SDK calls: unit-tested on its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crypto.h"
#include "schema.h"

namespace sluice::filters::jwt {

enum class TokenError { kNone, kInvalidJson, kInvalidAlg, kInvalidClaims, kInvalidSignature };

struct Token {
  std::string_view signing_input;  // "<header_64>.<claims_64>", a view into the raw token
  const Algorithm* algorithm = nullptr;
  nlohmann::json header;  // an object
  nlohmann::json claims;  // an object
  std::string signature;  // decoded bytes
};

// Decodes `raw` into `out` (which then views `raw`). Kong's order of complaints: header and
// claims JSON, then alg, then a missing claims segment, then the signature segment.
TokenError ParseToken(std::string_view raw, Token* out);

// Kong's wording after "Bad token; ": "invalid JSON", "invalid alg", ...
std::string_view TokenErrorText(TokenError e);

// The claims in claims_to_verify, then maximum_expiration, at Unix time `now`. Returns Kong's
// error map ({"exp":"token expired"}, ...) in claims_to_verify order; empty when all pass.
nlohmann::ordered_json CheckClaims(const Token& token, const Config& config, double now);

}  // namespace sluice::filters::jwt

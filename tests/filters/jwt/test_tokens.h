// SPDX-License-Identifier: Apache-2.0
// Test keys and token signing with OpenSSL EVP, so the jwt tests verify real signatures: keys
// are generated once per process, tokens are built from header and claims JSON.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace sluice::filters::jwt::testing {

using Key = std::shared_ptr<EVP_PKEY>;

// Process-wide keys (generated on first use): RSA 2048, EC P-256 / P-384 / P-521, Ed25519.
Key RsaKey();
Key OtherRsaKey();
Key EcKey(int bits);
Key Ed25519Key();

// The SubjectPublicKeyInfo PEM of `key`.
std::string PublicPem(EVP_PKEY* key);

// The PKCS#1 ("BEGIN RSA PUBLIC KEY") PEM of an RSA key.
std::string Pkcs1Pem(EVP_PKEY* key);

// "<b64(header)>.<b64(claims)>", the signing input.
std::string SigningInput(std::string_view header_json, std::string_view claims_json);

// The JWS signature of `input` with algorithm `alg` ("HS256", "RS256", "ES256", "PS256",
// "EdDSA", ...): HMAC with `secret` for HS*, else `key` (ECDSA in raw R||S form).
std::string Sign(std::string_view alg, std::string_view input, EVP_PKEY* key,
                 std::string_view secret = "");

// A whole token: {"alg":alg,"typ":"JWT"} as header unless `header_json` is given.
std::string HsToken(std::string_view alg, std::string_view secret, std::string_view claims_json,
                    std::string_view header_json = "");
std::string KeyToken(std::string_view alg, EVP_PKEY* key, std::string_view claims_json,
                     std::string_view header_json = "");

// `token` with its claims segment replaced (the signature no longer matches).
std::string SwapClaims(const std::string& token, std::string_view claims_json);

// `token` with one bit of its signature flipped.
std::string TamperSignature(const std::string& token);

}  // namespace sluice::filters::jwt::testing

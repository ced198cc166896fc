// SPDX-License-Identifier: Apache-2.0
// The JWS algorithms Kong's jwt plugin accepts, public key loading and signature checks, all
// through OpenSSL's EVP interface. No SDK calls: unit-tested on its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace sluice::filters::jwt {

enum class Family { kHmac, kRsa, kRsaPss, kEcdsa, kEdDsa };

struct Algorithm {
  std::string_view name;  // "HS256", ... as in the token's "alg" and the credential
  Family family;
  const EVP_MD* (*digest)();  // nullptr for EdDSA (the key type fixes the hash)
  int ec_bits;                // ECDSA: the curve's size in bits; 0 otherwise
};

// The algorithm called `name` (case-sensitive, as Kong compares it), or nullptr.
const Algorithm* FindAlgorithm(std::string_view name);

// "HS256, HS384, ..." for error messages.
std::string AlgorithmNames();

using PublicKey = std::shared_ptr<EVP_PKEY>;

// Parses a PEM public key (SubjectPublicKeyInfo or PKCS#1 RSA); nullptr when it does not parse.
PublicKey LoadPublicKey(std::string_view pem);

// Empty when `key` can verify `alg`, else why not ("expected an RSA public key", ...).
std::string CheckKey(const Algorithm& alg, EVP_PKEY* key);

// True when `signature` is the HMAC of `input` under `secret` (constant-time comparison).
bool VerifyHmac(const Algorithm& alg, std::string_view secret, std::string_view input,
                std::string_view signature);

// True when `signature` (JWS form: raw R||S for ECDSA) verifies `input` under `key`.
bool VerifyWithKey(const Algorithm& alg, EVP_PKEY* key, std::string_view input,
                   std::string_view signature);

}  // namespace sluice::filters::jwt

// SPDX-License-Identifier: Apache-2.0
// The JWS algorithms Kong's jwt plugin accepts, public key loading and signature checks, all
// through OpenSSL's EVP interface. No SDK calls: unit-tested on its own.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
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

// An HMAC key set up once per credential at config time (digest fetched, key pads computed).
// Shared by all workers: verification never touches the set-up context itself, it takes one of a
// few ready contexts, each held by at most one thread at a time (an atomic flag), and resets it
// from the stored pads; when all are busy it works on a fresh EVP_MAC_CTX_dup.
class PreparedHmac {
 public:
  explicit PreparedHmac(EVP_MAC_CTX* ready) noexcept : ready_(ready) {}  // takes ownership

  ~PreparedHmac();
  PreparedHmac(const PreparedHmac&) = delete;
  PreparedHmac& operator=(const PreparedHmac&) = delete;

  // True when `signature` is the HMAC of `input` (constant-time comparison). Any thread.
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  struct alignas(64) Slot {
    std::atomic_flag busy;       // held while one thread uses ctx
    EVP_MAC_CTX* ctx = nullptr;  // created by the first holder, then reset for each use
  };

  static constexpr size_t kSlots = 16;

  EVP_MAC_CTX* ready_;
  mutable std::array<Slot, kSlots> slots_{};
};

using HmacKey = std::shared_ptr<const PreparedHmac>;

// The prepared context for `alg` (an HS* algorithm) and `secret`; nullptr when OpenSSL refuses.
HmacKey PrepareHmac(const Algorithm& alg, std::string_view secret);

// True when `signature` is the HMAC of `input` under `key` (constant-time comparison); false
// for a null `key`.
bool VerifyHmac(const HmacKey& key, std::string_view input, std::string_view signature);

// The same with the key set up for this call only (tests, and a credential without a key).
bool VerifyHmac(const Algorithm& alg, std::string_view secret, std::string_view input,
                std::string_view signature);

// True when `signature` (JWS form: raw R||S for ECDSA) verifies `input` under `key`.
bool VerifyWithKey(const Algorithm& alg, EVP_PKEY* key, std::string_view input,
                   std::string_view signature);

}  // namespace sluice::filters::jwt

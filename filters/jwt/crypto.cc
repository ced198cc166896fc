// SPDX-License-Identifier: Apache-2.0
#include "crypto.h"

#include <array>
#include <cstdint>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

namespace sluice::filters::jwt {
namespace {

constexpr std::array<Algorithm, 13> kAlgorithms = {{
    {"HS256", Family::kHmac, &EVP_sha256, 0},
    {"HS384", Family::kHmac, &EVP_sha384, 0},
    {"HS512", Family::kHmac, &EVP_sha512, 0},
    {"RS256", Family::kRsa, &EVP_sha256, 0},
    {"RS384", Family::kRsa, &EVP_sha384, 0},
    {"RS512", Family::kRsa, &EVP_sha512, 0},
    {"ES256", Family::kEcdsa, &EVP_sha256, 256},
    {"ES384", Family::kEcdsa, &EVP_sha384, 384},
    {"ES512", Family::kEcdsa, &EVP_sha512, 521},
    {"PS256", Family::kRsaPss, &EVP_sha256, 0},
    {"PS384", Family::kRsaPss, &EVP_sha384, 0},
    {"PS512", Family::kRsaPss, &EVP_sha512, 0},
    {"EdDSA", Family::kEdDsa, nullptr, 0},
}};

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// JWS carries ECDSA signatures as fixed-width big-endian R||S (RFC 7518 §3.4); OpenSSL wants
// DER. Empty on a wrong length, which Kong also refuses.
std::vector<unsigned char> EcdsaRawToDer(const Algorithm& alg, std::string_view raw) {
  const size_t half = (static_cast<size_t>(alg.ec_bits) + 7) / 8;
  if (raw.size() != 2 * half)
    return {};
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw) + half, static_cast<int>(half), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0)
    return {};
  std::vector<unsigned char> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

const Algorithm* FindAlgorithm(std::string_view name) {
  for (const Algorithm& a : kAlgorithms) {
    if (a.name == name)
      return &a;
  }
  return nullptr;
}

std::string AlgorithmNames() {
  std::string out;
  for (const Algorithm& a : kAlgorithms) {
    if (!out.empty())
      out += ", ";
    out += a.name;
  }
  return out;
}

PublicKey LoadPublicKey(std::string_view pem) {
  EVP_PKEY* key = nullptr;
  OSSL_DECODER_CTX* ctx = OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, nullptr,
                                                        EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
  if (ctx == nullptr)
    return nullptr;
  const unsigned char* data = Bytes(pem);
  size_t len = pem.size();
  int ok = OSSL_DECODER_from_data(ctx, &data, &len);
  OSSL_DECODER_CTX_free(ctx);
  if (ok != 1) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return PublicKey(key, &EVP_PKEY_free);
}

std::string CheckKey(const Algorithm& alg, EVP_PKEY* key) {
  switch (alg.family) {
    case Family::kHmac:
      return "";
    case Family::kRsa:
      return EVP_PKEY_is_a(key, "RSA") ? "" : "expected an RSA public key";
    case Family::kRsaPss:
      return EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")
                 ? ""
                 : "expected an RSA public key";
    case Family::kEcdsa:
      if (!EVP_PKEY_is_a(key, "EC"))
        return "expected an EC public key";
      if (EVP_PKEY_get_bits(key) != alg.ec_bits) {
        return "expected a P-" + std::to_string(alg.ec_bits) + " public key";
      }
      return "";
    case Family::kEdDsa:
      return EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")
                 ? ""
                 : "expected an Ed25519 or Ed448 public key";
  }
  return "unsupported algorithm";
}

HmacKey PrepareHmac(const Algorithm& alg, std::string_view secret) {
  if (alg.family != Family::kHmac || alg.digest == nullptr)
    return nullptr;
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  if (mac == nullptr)
    return nullptr;
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context holds its own reference
  if (!ctx)
    return nullptr;
  // EVP_MAC_init treats a NULL key as "keep the current key"; an empty secret still needs a
  // valid pointer.
  static const unsigned char kEmpty = 0;
  const unsigned char* key = secret.empty() ? &kEmpty : Bytes(secret);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(EVP_MD_get0_name(alg.digest())), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key, secret.size(), params) != 1)
    return nullptr;
  return std::make_shared<const PreparedHmac>(ctx.release());
}

PreparedHmac::~PreparedHmac() {
  for (Slot& slot : slots_)
    EVP_MAC_CTX_free(slot.ctx);
  EVP_MAC_CTX_free(ready_);
}

bool PreparedHmac::Verify(std::string_view input, std::string_view signature) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  auto compute = [&](EVP_MAC_CTX* ctx) {
    return EVP_MAC_update(ctx, Bytes(input), input.size()) == 1 &&
           EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1;
  };
  // Each thread starts at its own slot, so workers rarely meet on one flag.
  static std::atomic<size_t> next_thread{0};
  thread_local const size_t first = next_thread.fetch_add(1, std::memory_order_relaxed);
  bool done = false;
  bool ok = false;
  for (size_t i = 0; i < kSlots && !done; ++i) {
    Slot& slot = slots_[(first + i) % kSlots];
    if (slot.busy.test_and_set(std::memory_order_acquire))
      continue;
    // A NULL key re-initialises from the stored key pads: no key set-up, no digest fetch.
    if (slot.ctx != nullptr && EVP_MAC_init(slot.ctx, nullptr, 0, nullptr) != 1) {
      EVP_MAC_CTX_free(slot.ctx);
      slot.ctx = nullptr;
    }
    if (slot.ctx == nullptr)
      slot.ctx = EVP_MAC_CTX_dup(ready_);  // reads ready_ only: safe beside other threads
    if (slot.ctx != nullptr) {
      ok = compute(slot.ctx);
      done = true;
    }
    slot.busy.clear(std::memory_order_release);
  }
  if (!done) {
    std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_dup(ready_));
    ok = ctx && compute(ctx.get());
  }
  return ok && signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

bool VerifyHmac(const HmacKey& key, std::string_view input, std::string_view signature) {
  return key && key->Verify(input, signature);
}

bool VerifyHmac(const Algorithm& alg, std::string_view secret, std::string_view input,
                std::string_view signature) {
  return VerifyHmac(PrepareHmac(alg, secret), input, signature);
}

bool VerifyWithKey(const Algorithm& alg, EVP_PKEY* key, std::string_view input,
                   std::string_view signature) {
  if (key == nullptr || alg.family == Family::kHmac || !CheckKey(alg, key).empty())
    return false;
  std::vector<unsigned char> der;
  const unsigned char* sig = Bytes(signature);
  size_t sig_len = signature.size();
  if (alg.family == Family::kEcdsa) {
    der = EcdsaRawToDer(alg, signature);
    if (der.empty())
      return false;
    sig = der.data();
    sig_len = der.size();
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg.digest != nullptr ? alg.digest() : nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1)
    return false;
  if (alg.family == Family::kRsaPss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  }
  return EVP_DigestVerify(ctx.get(), sig, sig_len, Bytes(input), input.size()) == 1;
}

}  // namespace sluice::filters::jwt

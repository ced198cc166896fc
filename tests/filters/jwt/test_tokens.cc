// SPDX-License-Identifier: Apache-2.0
#include "tests/filters/jwt/test_tokens.h"

#include <stdexcept>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "filters/jwt/base64url.h"
#include "filters/jwt/crypto.h"

namespace sluice::filters::jwt::testing {
namespace {

Key Generate(const char* type, const char* param = nullptr, size_t bits = 0) {
  EVP_PKEY* k = nullptr;
  if (bits != 0)
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits);
  else if (param != nullptr)
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
  else
    k = EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  if (k == nullptr)
    throw std::runtime_error(std::string("keygen failed: ") + type);
  return Key(k, &EVP_PKEY_free);
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// DER ECDSA signature to JWS R||S, each half `half` bytes.
std::string DerToRaw(const std::vector<unsigned char>& der, size_t half) {
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr)
    throw std::runtime_error("bad DER signature");
  std::string out(2 * half, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), o, static_cast<int>(half));
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), o + half, static_cast<int>(half));
  ECDSA_SIG_free(sig);
  return out;
}

}  // namespace

Key RsaKey() {
  static Key k = Generate("RSA", nullptr, 2048);
  return k;
}

Key OtherRsaKey() {
  static Key k = Generate("RSA", nullptr, 2048);
  return k;
}

Key EcKey(int bits) {
  static Key p256 = Generate("EC", "P-256");
  static Key p384 = Generate("EC", "P-384");
  static Key p521 = Generate("EC", "P-521");
  return bits == 256 ? p256 : bits == 384 ? p384 : p521;
}

Key Ed25519Key() {
  static Key k = Generate("ED25519");
  return k;
}

std::string PublicPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string Pkcs1Pem(EVP_PKEY* key) {
  OSSL_ENCODER_CTX* ctx =
      OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM", "type-specific", nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  if (ctx == nullptr || OSSL_ENCODER_to_data(ctx, &data, &len) != 1)
    throw std::runtime_error("PKCS#1 encoding failed");
  OSSL_ENCODER_CTX_free(ctx);
  std::string out(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return out;
}

std::string SigningInput(std::string_view header_json, std::string_view claims_json) {
  return Base64UrlEncode(header_json) + "." + Base64UrlEncode(claims_json);
}

std::string Sign(std::string_view alg_name, std::string_view input, EVP_PKEY* key,
                 std::string_view secret) {
  const Algorithm* alg = FindAlgorithm(alg_name);
  if (alg == nullptr)
    throw std::runtime_error("unknown algorithm");
  if (alg->family == Family::kHmac) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const unsigned char kEmpty = 0;
    HMAC(alg->digest(), secret.empty() ? &kEmpty : Bytes(secret), static_cast<int>(secret.size()),
         Bytes(input), input.size(), mac, &len);
    return std::string(reinterpret_cast<char*>(mac), len);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx, &pctx, alg->digest ? alg->digest() : nullptr, nullptr, key) != 1)
    throw std::runtime_error("sign init failed");
  if (alg->family == Family::kRsaPss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, Bytes(input), input.size());
  std::vector<unsigned char> sig(len);
  if (EVP_DigestSign(ctx, sig.data(), &len, Bytes(input), input.size()) != 1)
    throw std::runtime_error("sign failed");
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  if (alg->family == Family::kEcdsa)
    return DerToRaw(sig, (static_cast<size_t>(alg->ec_bits) + 7) / 8);
  return std::string(sig.begin(), sig.end());
}

namespace {

std::string Header(std::string_view alg, std::string_view header_json) {
  if (!header_json.empty())
    return std::string(header_json);
  return R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
}

}  // namespace

std::string HsToken(std::string_view alg, std::string_view secret, std::string_view claims_json,
                    std::string_view header_json) {
  std::string input = SigningInput(Header(alg, header_json), claims_json);
  return input + "." + Base64UrlEncode(Sign(alg, input, nullptr, secret));
}

std::string KeyToken(std::string_view alg, EVP_PKEY* key, std::string_view claims_json,
                     std::string_view header_json) {
  std::string input = SigningInput(Header(alg, header_json), claims_json);
  return input + "." + Base64UrlEncode(Sign(alg, input, key));
}

std::string SwapClaims(const std::string& token, std::string_view claims_json) {
  size_t dot1 = token.find('.');
  size_t dot2 = token.find('.', dot1 + 1);
  return token.substr(0, dot1 + 1) + Base64UrlEncode(claims_json) + token.substr(dot2);
}

std::string TamperSignature(const std::string& token) {
  size_t dot2 = token.rfind('.');
  std::string sig = *Base64UrlDecode(token.substr(dot2 + 1));
  sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  return token.substr(0, dot2 + 1) + Base64UrlEncode(sig);
}

}  // namespace sluice::filters::jwt::testing

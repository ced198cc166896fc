// SPDX-License-Identifier: Apache-2.0
// Version-5 UUIDs with OpenSSL's SHA-1 (checked against lua-resty-jit-uuid's documented vector,
// which is what Kong uses, in tests/core/config/uuid_test.cc).
#include "core/config/uuid.h"

#include <array>
#include <cstdint>
#include <vector>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace sluice::config {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string Format(const unsigned char* b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

}  // namespace

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') {
        return false;
      }
    } else if (HexDigit(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string UuidV5(absl::string_view ns, absl::string_view name) {
  std::array<unsigned char, 16> zero{};
  if (!IsUuid(ns)) {
    return Format(zero.data());
  }
  std::vector<unsigned char> input;
  input.reserve(16 + name.size());
  for (size_t i = 0; i < ns.size(); ++i) {
    if (ns[i] == '-') {
      continue;
    }
    int hi = HexDigit(ns[i]);
    int lo = HexDigit(ns[i + 1]);
    input.push_back(static_cast<unsigned char>(hi * 16 + lo));
    ++i;
  }
  input.insert(input.end(), name.begin(), name.end());

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha1(), nullptr) != 1 ||
      md_len < 16) {
    return Format(zero.data());
  }
  md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);
  return Format(md);
}

std::string KongEntityId(absl::string_view entity, absl::string_view key) {
  return UuidV5(UuidV5(kKongIdNamespace, entity), key);
}

std::string RandomHex(int bytes) {
  std::vector<unsigned char> buf(static_cast<size_t>(bytes));
  if (RAND_bytes(buf.data(), bytes) != 1) {
    buf.assign(buf.size(), 0);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(buf.size() * 2);
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

}  // namespace sluice::config

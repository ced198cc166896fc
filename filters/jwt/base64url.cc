// SPDX-License-Identifier: Apache-2.0
#include "base64url.h"

#include <array>
#include <cstdint>

namespace sluice::filters::jwt {
namespace {

// Each character's 6-bit value in either alphabet ('-' and '+' are 62, '_' and '/' 63), or -1.
constexpr std::array<int8_t, 256> kSextets = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<int8_t>(i);
    t['a' + i] = static_cast<int8_t>(i + 26);
  }
  for (int i = 0; i < 10; ++i)
    t['0' + i] = static_cast<int8_t>(i + 52);
  t['-'] = t['+'] = 62;
  t['_'] = t['/'] = 63;
  return t;
}();

int Sextet(char c) { return kSextets[static_cast<unsigned char>(c)]; }

}  // namespace

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  // Kong pads to a multiple of 4 before decoding, so "=" may be present or absent, but only
  // as much as completes the last quantum.
  size_t pad = 0;
  while (!in.empty() && in.back() == '=' && pad < 2) {
    in.remove_suffix(1);
    ++pad;
  }
  if (in.size() % 4 == 1)
    return std::nullopt;
  if (pad > 0 && (in.size() + pad) % 4 != 0)
    return std::nullopt;
  // Sized once: 3 bytes per full quantum, 1 or 2 for a trailing 2 or 3 characters.
  std::string out(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1), '\0');
  char* o = out.data();
  size_t i = 0;
  for (; i + 4 <= in.size(); i += 4) {
    const int a = Sextet(in[i]), b = Sextet(in[i + 1]), c = Sextet(in[i + 2]),
              d = Sextet(in[i + 3]);
    if ((a | b | c | d) < 0)
      return std::nullopt;
    const uint32_t q = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 |
                       static_cast<uint32_t>(c) << 6 | static_cast<uint32_t>(d);
    *o++ = static_cast<char>(q >> 16);
    *o++ = static_cast<char>(q >> 8);
    *o++ = static_cast<char>(q);
  }
  // A trailing 2 or 3 characters; their unused low bits are ignored, as before.
  uint32_t acc = 0;
  int bits = 0;
  for (; i < in.size(); ++i) {
    const int v = Sextet(in[i]);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Base64UrlEncode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0)
    out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

}  // namespace sluice::filters::jwt

// SPDX-License-Identifier: Apache-2.0
// Base64url for JWS segments (RFC 7515 §2), decoding as leniently as Kong's jwt parser: padding
// is optional and the standard alphabet's '+' and '/' are accepted too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::filters::jwt {

// The bytes `in` encodes, or nullopt for a character outside both alphabets, misplaced padding
// or an impossible length (4n+1).
std::optional<std::string> Base64UrlDecode(std::string_view in);

// Unpadded base64url of `in`.
std::string Base64UrlEncode(std::string_view in);

}  // namespace sluice::filters::jwt

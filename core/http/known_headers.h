// SPDX-License-Identifier: Apache-2.0
// Interning of the header names the proxy treats specially, so the hot path classifies a field
// with one switch on its length and one case-insensitive compare (h2o's token idea).
#pragma once

#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

#include "core/common/strings.h"

namespace sluice::http {

enum class HeaderId : uint8_t {
  kOther = 0,
  kHost,
  kConnection,
  kKeepAlive,
  kProxyConnection,
  kTe,
  kTransferEncoding,
  kUpgrade,
  kContentLength,
  kExpect,
  kXForwardedFor,
  kXForwardedProto,
  kXForwardedHost,
  kXForwardedPort,
  kXForwardedPath,
  kXForwardedPrefix,
  kXRealIp,
  kVia,
  kServer,
  kDate,
  kTrailer,
  kAccept,
};

// Returns the id of a header name (case-insensitive), kOther for names not listed above.
HeaderId ClassifyHeader(absl::string_view name);

// Hop-by-hop fields (RFC 9110 §7.6.1) never forwarded by a proxy; fields named in Connection
// are handled separately by the caller.
inline bool IsHopByHop(HeaderId id) {
  switch (id) {
    case HeaderId::kConnection:
    case HeaderId::kKeepAlive:
    case HeaderId::kProxyConnection:
    case HeaderId::kTe:
    case HeaderId::kTransferEncoding:
    case HeaderId::kUpgrade:
    case HeaderId::kTrailer:
      return true;
    default:
      return false;
  }
}

// The field names listed in a Connection header value (RFC 9110 §7.6.1), to be dropped too.
using ConnectionTokens = absl::InlinedVector<absl::string_view, 4>;

inline void AddConnectionTokens(absl::string_view value, ConnectionTokens* out) {
  for (absl::string_view tok : absl::StrSplit(value, ',')) {
    tok = TrimOws(tok);
    if (!tok.empty())
      out->push_back(tok);
  }
}

inline bool NamedInConnection(absl::string_view name, const ConnectionTokens& tokens) {
  for (absl::string_view t : tokens) {
    if (IEquals(t, name))
      return true;
  }
  return false;
}

}  // namespace sluice::http

// SPDX-License-Identifier: Apache-2.0
#include "core/http/known_headers.h"

#include "core/common/strings.h"

namespace sluice::http {
namespace {

struct Known {
  absl::string_view name;
  HeaderId id;
};

// Sorted by nothing in particular: the length switch below narrows to one or two candidates.
constexpr Known kKnown[] = {
    {"host", HeaderId::kHost},
    {"connection", HeaderId::kConnection},
    {"keep-alive", HeaderId::kKeepAlive},
    {"proxy-connection", HeaderId::kProxyConnection},
    {"te", HeaderId::kTe},
    {"transfer-encoding", HeaderId::kTransferEncoding},
    {"upgrade", HeaderId::kUpgrade},
    {"content-length", HeaderId::kContentLength},
    {"expect", HeaderId::kExpect},
    {"x-forwarded-for", HeaderId::kXForwardedFor},
    {"x-forwarded-proto", HeaderId::kXForwardedProto},
    {"x-forwarded-host", HeaderId::kXForwardedHost},
    {"x-forwarded-port", HeaderId::kXForwardedPort},
    {"x-forwarded-path", HeaderId::kXForwardedPath},
    {"x-forwarded-prefix", HeaderId::kXForwardedPrefix},
    {"x-real-ip", HeaderId::kXRealIp},
    {"via", HeaderId::kVia},
    {"server", HeaderId::kServer},
    {"date", HeaderId::kDate},
    {"trailer", HeaderId::kTrailer},
    {"accept", HeaderId::kAccept},
};

}  // namespace

HeaderId ClassifyHeader(absl::string_view name) {
  // Most request headers are not special; rejecting on length and first letter first keeps the
  // common case to a couple of compares.
  if (name.size() < 2 || name.size() > 18)
    return HeaderId::kOther;
  char first = static_cast<char>(name[0] | 0x20);
  for (const Known& k : kKnown) {
    if (k.name.size() == name.size() && k.name[0] == first && IEquals(k.name, name)) {
      return k.id;
    }
  }
  return HeaderId::kOther;
}

}  // namespace sluice::http

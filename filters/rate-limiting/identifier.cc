// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/identifier.h"

namespace sluice::filters::rate_limiting {
namespace {

bool Usable(const std::optional<std::string_view>& v) { return v.has_value() && !v->empty(); }

}  // namespace

std::string_view SelectIdentifier(const Config& config, const RequestFacts& facts) {
  switch (config.limit_by) {
    case LimitBy::kConsumer:
      if (Usable(facts.consumer_id))
        return *facts.consumer_id;
      if (Usable(facts.credential_id))
        return *facts.credential_id;
      break;
    case LimitBy::kCredential:
      if (Usable(facts.credential_id))
        return *facts.credential_id;
      break;
    case LimitBy::kService:
      if (Usable(facts.service_id))
        return *facts.service_id;
      break;
    case LimitBy::kHeader:
      if (Usable(facts.header_value))
        return *facts.header_value;
      break;
    case LimitBy::kPath:
      if (facts.path == config.path)
        return facts.path;
      break;
    case LimitBy::kIp:
      break;
  }
  return facts.client_ip;
}

}  // namespace sluice::filters::rate_limiting

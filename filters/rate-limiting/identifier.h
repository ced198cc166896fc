// SPDX-License-Identifier: Apache-2.0
// Who a request counts against (Kong's limit_by, reference/kong.md §5.2), from facts the handler
// reads off the request. Pure: no SDK calls.
#pragma once

#include <optional>
#include <string_view>

#include "rate-limiting/schema.h"

namespace sluice::filters::rate_limiting {

// What the host knows about a request; nullopt (or empty) for what it does not have.
struct RequestFacts {
  std::optional<std::string_view> consumer_id;
  std::optional<std::string_view> credential_id;
  std::optional<std::string_view> service_id;
  std::optional<std::string_view> header_value;  // the first `header_name` field
  std::string_view path;                         // normalised, without the query
  std::string_view client_ip;
};

// The identifier for `config.limit_by`, falling back to the client IP as Kong does: consumer
// (else credential), credential, service, header, path (only when it equals config.path).
std::string_view SelectIdentifier(const Config& config, const RequestFacts& facts);

}  // namespace sluice::filters::rate_limiting

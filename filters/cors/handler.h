// SPDX-License-Identifier: Apache-2.0
// The cors hooks: answer preflights from the gateway, decorate every other response (also
// local replies such as a jwt 401, Kong's short-circuit rule). SDK glue around policy.h.
#pragma once

#include <optional>
#include <string_view>

#include <sluice/filter.hpp>

#include "schema.h"

namespace sluice::filters::cors {

class Cors : public sluice::Filter<Config> {
 public:
  using Filter::Filter;

  static Config ParseConfig(std::string_view json) { return cors::ParseConfig(json); }

  sluice::Action OnRequestHeaders(sluice::Request& req);
  sluice::Action OnResponseHeaders(sluice::Request& req);

 private:
  // Set for preflights (answered here, or left to the upstream with preflight_continue): Kong
  // adds no headers to their responses in header_filter.
  bool skip_response_headers_ = false;
  // The client's Origin as it arrived (request-owned copy), so later filters that rewrite the
  // request headers cannot change what the response hook sees.
  bool origin_read_ = false;
  std::optional<std::string_view> origin_;
};

}  // namespace sluice::filters::cors

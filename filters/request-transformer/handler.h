// SPDX-License-Identifier: Apache-2.0
// The request-transformer hooks: the head is rewritten in on_request_headers (uri, headers,
// querystring, in Kong's order); the body, when a body operation applies, is buffered and
// rewritten at its end. SDK glue around transform.h and body.h.
#pragma once

#include <optional>
#include <string_view>

#include <sluice/filter.hpp>

#include "body.h"
#include "schema.h"
#include "transform.h"

namespace sluice::filters::request_transformer {

class RequestTransformer : public sluice::Filter<Config> {
 public:
  using Filter::Filter;

  // ParseConfig plus what this host cannot do: the filter ABI has no upstream method setter,
  // so http_method is refused rather than silently ignored.
  static Config ParseConfig(std::string_view json);

  sluice::Action OnRequestHeaders(sluice::Request& req);
  sluice::Action OnRequestBody(sluice::Request& req, bool end_of_stream);

 private:
  RequestSnapshot Snapshot(const sluice::Request& req) const;

  BodyKind body_kind_ = BodyKind::kOther;
  bool transform_body_ = false;
  // Kept for the body hook only when body values are templates.
  std::optional<RequestSnapshot> snapshot_;
};

}  // namespace sluice::filters::request_transformer

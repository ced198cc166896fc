// SPDX-License-Identifier: Apache-2.0
// cors hooks; see handler.h.
#include "handler.h"

#include <vector>

#include "policy.h"

namespace sluice::filters::cors {
namespace {

std::optional<std::string_view> RequestHeader(const sluice::Request& req, std::string_view name) {
  return req.RequestHeaders().Get(name);
}

}  // namespace

sluice::Action Cors::OnRequestHeaders(sluice::Request& req) {
  RequestFacts facts;
  facts.method = req.Method();
  facts.origin = RequestHeader(req, "origin");
  if (facts.origin) {
    // The view is only valid until the request map is written; keep a request-owned copy.
    std::string_view copy = req.Copy(*facts.origin);
    if (copy.size() != facts.origin->size())
      return sluice::Action::kContinue;  // out of memory: behave as if cors were absent
    origin_ = copy;
  }
  origin_read_ = true;
  facts.request_method = RequestHeader(req, "access-control-request-method");
  if (!IsPreflight(facts))
    return sluice::Action::kContinue;

  skip_response_headers_ = true;
  if (config().preflight_continue)
    return sluice::Action::kContinue;

  facts.request_headers = RequestHeader(req, "access-control-request-headers");
  facts.request_private_network = RequestHeader(req, "access-control-request-private-network");
  HeaderPlan plan;
  PlanPreflight(config(), facts, &plan);
  std::vector<std::pair<std::string_view, std::string_view>> fields = plan.Resolve();
  std::vector<sluice_header> headers;
  headers.reserve(fields.size());
  for (const auto& [name, value] : fields)
    headers.push_back(sluice_header{sluice::Str(name), sluice::Str(value)});
  // Kong answers 200 with no body (kong.response.exit(200)); the host sets Content-Length: 0.
  const sluice_status st = sluice::Host().send_local_reply(
      req.raw(), 200, headers.empty() ? nullptr : headers.data(), headers.size(), sluice_str{});
  if (st != SLUICE_OK) {
    req.Log(sluice::LogLevel::kError, "cannot answer the preflight");
    return sluice::Action::kContinue;
  }
  return sluice::Action::kStop;
}

sluice::Action Cors::OnResponseHeaders(sluice::Request& req) {
  if (skip_response_headers_)
    return sluice::Action::kContinue;
  // When an earlier filter answered first, the request hook never ran: read the map now.
  std::optional<std::string_view> origin = origin_read_ ? origin_ : RequestHeader(req, "origin");
  HeaderPlan plan;
  PlanResponse(config(), origin, &plan);
  const sluice::Headers out = req.ResponseHeaders();
  for (const HeaderOp& op : plan) {
    switch (op.kind) {
      case HeaderOp::Kind::kSet:
        out.Set(op.name, op.value);
        break;
      case HeaderOp::Kind::kAdd:
        out.Add(op.name, op.value);
        break;
      case HeaderOp::Kind::kRemove:
        out.Remove(op.name);
        break;
    }
  }
  return sluice::Action::kContinue;
}

}  // namespace sluice::filters::cors

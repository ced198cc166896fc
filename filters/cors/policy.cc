// SPDX-License-Identifier: Apache-2.0
// Header plans for preflights and normal responses; see policy.h.
#include "policy.h"

#include <algorithm>
#include <strings.h>

namespace sluice::filters::cors {
namespace {

constexpr std::string_view kAllowOrigin = "Access-Control-Allow-Origin";
constexpr std::string_view kAllowCredentials = "Access-Control-Allow-Credentials";

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Vary: Origin is set on the preflight reply (a fresh map) and appended to a normal response,
// which may carry the upstream's own Vary.
void Vary(bool response_phase, HeaderPlan* plan) {
  if (response_phase) {
    plan->Add("Vary", "Origin");
  } else {
    plan->Set("Vary", "Origin");
  }
}

// Kong's configure_origin; returns true when every origin is allowed ("*").
bool ConfigureOrigin(const Config& config, bool response_phase,
                     std::optional<std::string_view> origin, HeaderPlan* plan) {
  OriginDecision d = config.origin_policy.Decide(origin);
  if (d.vary)
    Vary(response_phase, plan);
  switch (d.kind) {
    case OriginDecision::Kind::kAllowAll:
      plan->Set(kAllowOrigin, "*");
      return true;
    case OriginDecision::Kind::kLiteral:
    case OriginDecision::Kind::kMatched:
      plan->Set(kAllowOrigin, plan->Keep(std::move(d.value)));
      return false;
    case OriginDecision::Kind::kNone:
      break;
  }
  plan->Remove(kAllowOrigin);
  return false;
}

// Kong's configure_credentials: "*" cannot go with credentials, so the request's Origin is
// echoed verbatim instead.
void ConfigureCredentials(const Config& config, bool allow_all, bool response_phase,
                          std::optional<std::string_view> origin, HeaderPlan* plan) {
  if (!config.credentials)
    return;
  if (!allow_all) {
    plan->Set(kAllowCredentials, "true");
    return;
  }
  if (origin) {
    Vary(response_phase, plan);
    plan->Set(kAllowOrigin, *origin);
    plan->Set(kAllowCredentials, "true");
  }
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> HeaderPlan::Resolve() const {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  auto drop = [&fields](std::string_view name) {
    std::erase_if(fields, [name](const auto& f) { return SameName(f.first, name); });
  };
  for (const HeaderOp& op : *this) {
    switch (op.kind) {
      case HeaderOp::Kind::kSet: {
        // A set keeps the position of the first field it replaces, as a header map would.
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&op](const auto& f) { return SameName(f.first, op.name); });
        if (it == fields.end()) {
          fields.emplace_back(op.name, op.value);
        } else {
          *it = {op.name, op.value};
          auto next = std::remove_if(it + 1, fields.end(),
                                     [&op](const auto& f) { return SameName(f.first, op.name); });
          fields.erase(next, fields.end());
        }
        break;
      }
      case HeaderOp::Kind::kAdd:
        fields.emplace_back(op.name, op.value);
        break;
      case HeaderOp::Kind::kRemove:
        drop(op.name);
        break;
    }
  }
  return fields;
}

bool IsPreflight(const RequestFacts& request) {
  return request.method == "OPTIONS" && request.origin.has_value() &&
         request.request_method.has_value();
}

void PlanPreflight(const Config& config, const RequestFacts& request, HeaderPlan* plan) {
  const bool allow_all = ConfigureOrigin(config, false, request.origin, plan);
  ConfigureCredentials(config, allow_all, false, request.origin, plan);
  if (config.headers && !config.headers->empty()) {
    plan->Set("Access-Control-Allow-Headers", config.allow_headers_value);
  } else if (request.request_headers) {
    plan->Set("Access-Control-Allow-Headers", *request.request_headers);
  } else {
    plan->Remove("Access-Control-Allow-Headers");
  }
  plan->Set("Access-Control-Allow-Methods", config.allow_methods_value);
  if (config.max_age)
    plan->Set("Access-Control-Max-Age", config.max_age_value);
  if (config.private_network && request.request_private_network == "true")
    plan->Set("Access-Control-Allow-Private-Network", "true");
}

void PlanResponse(const Config& config, std::optional<std::string_view> origin, HeaderPlan* plan) {
  if (!origin && !config.allow_origin_absent)
    return;
  const bool allow_all = ConfigureOrigin(config, true, origin, plan);
  ConfigureCredentials(config, allow_all, true, origin, plan);
  if (!config.exposed_headers.empty())
    plan->Set("Access-Control-Expose-Headers", config.expose_headers_value);
}

}  // namespace sluice::filters::cors

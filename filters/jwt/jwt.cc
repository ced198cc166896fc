// SPDX-License-Identifier: Apache-2.0
// The jwt filter's SDK glue: reads the request, asks authenticate.h for the decision, and
// applies it (consumer, credential, upstream identity headers, local replies). Logic lives in
// the jwt_logic library so it is unit-tested without a host.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <sluice/filter.hpp>

#include "authenticate.h"
#include "extract.h"
#include "schema.h"

namespace sluice::filters::jwt {
namespace {

constexpr std::string_view kConsumerId = "X-Consumer-ID";
constexpr std::string_view kConsumerCustomId = "X-Consumer-Custom-ID";
constexpr std::string_view kConsumerUsername = "X-Consumer-Username";
constexpr std::string_view kCredentialIdentifier = "X-Credential-Identifier";
constexpr std::string_view kAnonymous = "X-Anonymous-Consumer";
constexpr std::string_view kUserId = "X-User-ID";
constexpr std::string_view kUserRoles = "X-User-Roles";
constexpr std::string_view kJson = "application/json; charset=utf-8";

void SetOrRemove(const sluice::Headers& h, std::string_view name,
                 std::optional<std::string_view> value) {
  if (value && !value->empty())
    h.Set(name, *value);
  else
    h.Remove(name);
}

std::optional<std::string_view> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string_view>(s);
}

class JwtFilter : public sluice::Filter<Config> {
 public:
  using Filter::Filter;

  static Config ParseConfig(std::string_view json, sluice::ConfigContext& ctx) {
    Config config = jwt::ParseConfig(json);
    const sluice_host_api* host = &sluice::Host();
    if (!SLUICE_HOST_HAS(host, credentials_get))
      throw sluice::ConfigError("config: this sluice cannot hand jwt_secrets to filters");
    sluice_str out{};
    sluice_status st = host->credentials_get(ctx.raw(), sluice::Str("jwt_secrets"), &out);
    if (st != SLUICE_OK) {
      throw sluice::ConfigError("config: reading jwt_secrets failed (status " + std::to_string(st) +
                                ")");
    }
    LoadCredentials(sluice::View(out), &config);
    return config;
  }

  sluice::Action OnRequestHeaders(sluice::Request& req) {
    const Config& c = config();
    const sluice::Headers h = req.RequestHeaders();
    // Kong's logical OR: another auth filter already chose a credential and set its headers.
    const bool done_by_other = c.anonymous && req.Info(SLUICE_INFO_CREDENTIAL_ID).has_value();
    if (!done_by_other) {
      for (std::string_view name :
           {kConsumerId, kConsumerCustomId, kConsumerUsername, kCredentialIdentifier, kAnonymous}) {
        h.Remove(name);
      }
    }
    h.Remove(kUserId);
    h.Remove(kUserRoles);
    if (done_by_other || (!c.run_on_preflight && req.Method() == "OPTIONS"))
      return sluice::Action::kContinue;

    Outcome outcome = Authenticate(c, CollectTokens(req), static_cast<double>(std::time(nullptr)));
    if (outcome.refusal)
      return c.anonymous ? UseAnonymous(req) : Refuse(req, *outcome.refusal);

    const Identity& id = outcome.identity;
    const Credential& cred = *id.credential;
    if (req.SetConsumer(cred.consumer.id) != SLUICE_OK) {
      Refusal r{
          401,
          MessageBody("Could not find consumer for '" + c.key_claim_name + "=" + cred.key + "'"),
          Challenge::kNone};
      return Refuse(req, r);
    }
    if (SLUICE_HOST_HAS(&sluice::Host(), credential_set))
      sluice::Host().credential_set(req.raw(), sluice::Str(cred.id.empty() ? cred.key : cred.id));
    SetOrRemove(h, kConsumerId, NonEmpty(cred.consumer.id));
    SetOrRemove(h, kConsumerCustomId, NonEmpty(cred.consumer.custom_id));
    SetOrRemove(h, kConsumerUsername, NonEmpty(cred.consumer.username));
    h.Set(kCredentialIdentifier, cred.key);
    if (id.user_id)
      SetOrRemove(h, kUserId, *id.user_id);
    if (id.roles_text)
      SetOrRemove(h, kUserRoles, *id.roles_text);
    if (!RolesAllowed(c, id.roles)) {
      return Refuse(req, Refusal{403, MessageBody("Insufficient permissions"), Challenge::kNone});
    }
    return sluice::Action::kContinue;
  }

 private:
  std::vector<std::string> CollectTokens(const sluice::Request& req) const {
    const Config& c = config();
    std::vector<std::string> tokens;
    if (!c.uri_param_names.empty()) {
      const std::string_view query = req.Query();
      for (const std::string& name : c.uri_param_names) {
        for (const std::string& v : QueryValues(query, name))
          AddToken(&tokens, v);
      }
    }
    const sluice::Headers h = req.RequestHeaders();
    for (const std::string& name : c.cookie_names) {
      // nginx's $cookie_NAME: the first match over every Cookie header.
      for (size_t i = 0;; ++i) {
        std::optional<std::string_view> header = h.Get("Cookie", i);
        if (!header)
          break;
        if (std::optional<std::string_view> v = CookieValue(*header, name)) {
          AddToken(&tokens, *v);
          break;
        }
      }
    }
    for (const std::string& name : c.header_names) {
      // Kong reads only the first field of each header.
      if (std::optional<std::string_view> header = h.Get(name)) {
        if (std::optional<std::string_view> v = BearerToken(*header))
          AddToken(&tokens, *v);
      }
    }
    return tokens;
  }

  sluice::Action Refuse(const sluice::Request& req, const Refusal& r) const {
    const std::string challenge = WwwAuthenticate(config(), r.challenge);
    if (challenge.empty())
      req.SendLocalReply(r.status, r.body, {{"Content-Type", kJson}});
    else
      req.SendLocalReply(r.status, r.body,
                         {{"Content-Type", kJson}, {"WWW-Authenticate", challenge}});
    return sluice::Action::kStop;
  }

  sluice::Action UseAnonymous(const sluice::Request& req) const {
    const std::string& anonymous = *config().anonymous;
    if (req.SetConsumer(anonymous) != SLUICE_OK) {
      // Kong answers this with kong.response.error, whose body carries the request id.
      const std::string message =
          "anonymous consumer " + anonymous + " is configured but doesn't exist";
      req.Log(sluice::LogLevel::kError, message);
      nlohmann::json body{{"message", message}};
      if (std::optional<std::string_view> rid = req.Info(SLUICE_INFO_REQUEST_ID))
        body["request_id"] = *rid;
      req.SendLocalReply(500, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                         {{"Content-Type", kJson}});
      return sluice::Action::kStop;
    }
    const sluice::Headers h = req.RequestHeaders();
    SetOrRemove(h, kConsumerId, req.Info(SLUICE_INFO_CONSUMER_ID));
    SetOrRemove(h, kConsumerCustomId, req.Info(SLUICE_INFO_CONSUMER_CUSTOM_ID));
    SetOrRemove(h, kConsumerUsername, req.Info(SLUICE_INFO_CONSUMER_USERNAME));
    h.Set(kAnonymous, "true");
    return sluice::Action::kContinue;
  }
};

}  // namespace
}  // namespace sluice::filters::jwt

SLUICE_FILTER(sluice::filters::jwt::JwtFilter, "jwt", 1450, "1.0.0")

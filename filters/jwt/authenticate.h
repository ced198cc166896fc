// SPDX-License-Identifier: Apache-2.0
// Kong's jwt decision (handler.lua do_authentication, kong.md §4.2-4.3) from the collected
// tokens to either the credential and the identity to forward, or the 401 to send; plus the
// roles extension. No SDK calls: the handler does the I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "schema.h"

namespace sluice::filters::jwt {

// Which WWW-Authenticate a refusal carries (kong.md §4.3).
enum class Challenge { kNone, kBearer, kInvalidToken };

struct Refusal {
  int status = 401;
  std::string body;  // JSON
  Challenge challenge = Challenge::kInvalidToken;
};

struct Identity {
  const Credential* credential = nullptr;
  std::optional<std::string> user_id;     // the `sub` claim, for X-User-ID
  std::optional<std::string> roles_text;  // the roles claim as sent in X-User-Roles
  std::vector<std::string> roles;         // the same, one role per element
};

struct Outcome {
  std::optional<Refusal> refusal;  // set: authentication failed
  Identity identity;               // valid when refusal is empty
};

// Decides on `tokens` (deduplicated, non-empty) at Unix time `now`.
Outcome Authenticate(const Config& config, const std::vector<std::string>& tokens, double now);

// The WWW-Authenticate value for `challenge` ("" for kNone), with the configured realm.
std::string WwwAuthenticate(const Config& config, Challenge challenge);

// True when required_roles is empty or shares a role with `roles`.
bool RolesAllowed(const Config& config, const std::vector<std::string>& roles);

// {"message":"<text>"} with JSON escaping.
std::string MessageBody(std::string_view text);

}  // namespace sluice::filters::jwt

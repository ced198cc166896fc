// SPDX-License-Identifier: Apache-2.0
// Origin matching as Kong's cors handler does it (reference/kong.md §6.2): origins are normalised
// the way LuaSocket's url.parse splits them, plain entries compare as scheme://host[:port], and
// entries with any character outside [A-Za-z0-9.:/-] are regexes (RE2 here, PCRE in Kong). Pure:
// no SDK calls, so it is unit-tested on its own.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace sluice::filters::cors {

// An origin split as Kong compares it.
struct NormalizedOrigin {
  std::string domain;  // "scheme://host[:port]" without default ports; the input when no host
  std::string host;    // the host alone; the input when no host
};

// Normalises `origin` as Kong's normalize_origin does (userinfo, path, query and fragment
// dropped; port 80 for http and 443 for https removed; case kept as given).
NormalizedOrigin NormalizeOrigin(std::string_view origin);

// True when `entry` holds only [A-Za-z0-9.:/-], which Kong treats as a plain origin, not a regex.
bool IsPlainOrigin(std::string_view entry);

// The outcome of matching a request against the configured origins.
struct OriginDecision {
  enum class Kind {
    kAllowAll,  // Access-Control-Allow-Origin: *
    kLiteral,   // ACAO set to the one plain configured entry, whatever the request sent
    kMatched,   // ACAO set to the normalised request origin
    kNone,      // no match: ACAO removed
  };
  Kind kind = Kind::kNone;
  bool vary = false;  // Vary: Origin is due (every case except "no origins" / ["*"])
  std::string value;  // the ACAO value for kLiteral and kMatched
};

// The configured `origins`, compiled once (immutable, shared by all workers; RE2 is safe for
// concurrent matching).
class OriginPolicy {
 public:
  OriginPolicy();
  ~OriginPolicy();
  OriginPolicy(OriginPolicy&&) noexcept;
  OriginPolicy& operator=(OriginPolicy&&) noexcept;

  // Compiles `origins` (nullopt or empty: allow all). Returns an error text for the first entry
  // that is neither "*" nor a valid regex, with its index in `bad_index`.
  static std::optional<std::string> Build(const std::optional<std::vector<std::string>>& origins,
                                          OriginPolicy* out, size_t* bad_index);

  // Decides Access-Control-Allow-Origin for a request whose Origin header is `request_origin`
  // (nullopt when absent), as Kong's configure_origin.
  OriginDecision Decide(std::optional<std::string_view> request_origin) const;

 private:
  struct Rule;

  bool allow_all_ = true;               // no origins, or exactly ["*"]
  std::optional<std::string> literal_;  // the one plain entry, when there is exactly one
  std::vector<Rule> rules_;
};

}  // namespace sluice::filters::cors

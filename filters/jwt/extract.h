// SPDX-License-Identifier: Apache-2.0
// Where a token may come from (kong.md §4.2 step 2): query arguments, cookies and bearer
// headers, each read the way nginx and Kong read them. Pure functions over request text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::filters::jwt {

// The decoded values of every argument called `name` in the raw query ('+' and %XX decoded,
// as ngx.decode_args does). An argument without '=' has no value and is skipped.
std::vector<std::string> QueryValues(std::string_view raw_query, std::string_view name);

// The value of the first cookie called `name` (case-insensitive, as nginx's $cookie_NAME) in
// one Cookie header value.
std::optional<std::string_view> CookieValue(std::string_view cookie_header, std::string_view name);

// What Kong's `\s*[Bb]earer\s+(.+)` captures in a header value, searched anywhere in it.
std::optional<std::string_view> BearerToken(std::string_view header_value);

// Adds `token` to `tokens` unless it is empty or already there (Kong's token set).
void AddToken(std::vector<std::string>* tokens, std::string_view token);

}  // namespace sluice::filters::jwt

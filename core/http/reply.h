// SPDX-License-Identifier: Apache-2.0
// Responses the gateway writes itself: errors with Kong's JSON bodies (DESIGN.md §7).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace sluice::http {

// The reason phrase for `status` ("OK", "Not Found", ...), "Unknown" when not listed.
absl::string_view ReasonPhrase(int status);

// The Kong message for a gateway-generated error status (e.g. 404 -> "no Route matched with
// those values", 502 -> "An invalid response was received from the upstream server").
absl::string_view DefaultMessage(int status);

// Appends a complete HTTP/1.1 response with body `{"message":"<message>"}` (JSON) or, when
// `plain_text`, `<message>\n`, and `Connection: close` when `close`. `message` must not need
// JSON escaping (gateway messages are fixed ASCII).
void AppendErrorReply(int status, absl::string_view message, bool close, bool plain_text,
                      std::string* out);

}  // namespace sluice::http

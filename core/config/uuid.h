// SPDX-License-Identifier: Apache-2.0
// Entity ids for the declarative loader: RFC 4122 version-5 UUIDs derived the way Kong's
// DB-less mode derives them, plus the random values Kong auto-generates (jwt `key`/`secret`).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace sluice::config {

// Kong's root namespace for declarative ids.
inline constexpr absl::string_view kKongIdNamespace = "fd02801f-0957-4a15-a55a-c8d9606f30b5";

// RFC 4122 §4.3 name-based UUID (SHA-1, version 5) of `name` in namespace `ns`, lower-case
// hex with dashes. `ns` must satisfy IsUuid(); otherwise the result is the nil UUID.
std::string UuidV5(absl::string_view ns, absl::string_view name);

// The id Kong's declarative loader gives an entity of table `entity` ("services", "routes",
// "plugins", ...) whose identifying key is `key`: UuidV5(UuidV5(kKongIdNamespace, entity), key)
// (kong/db/schema/others/declarative_config.lua, generate_uuid()).
std::string KongEntityId(absl::string_view entity, absl::string_view key);

// True for the 8-4-4-4-12 hex form (either case), as Kong's `uuid` validator accepts.
bool IsUuid(absl::string_view s);

// `bytes` cryptographically random bytes as lower-case hex (Kong's auto-generated credential
// fields). Falls back to an all-zero string only if the OpenSSL RNG fails.
std::string RandomHex(int bytes);

}  // namespace sluice::config

// SPDX-License-Identifier: Apache-2.0
// Version-5 UUIDs and Kong's declarative id derivation.
#include "core/config/uuid.h"

#include <catch2/catch.hpp>

namespace sluice::config {
namespace {

TEST_CASE("config uuid: v5 matches the lua-resty-jit-uuid vectors Kong relies on", "[config]") {
  CHECK(UuidV5("e6ebd542-06ae-11e6-8e82-bba81706b27d", "hello") ==
        "4850816f-1658-5890-8bfd-1ed14251f1f0");
  CHECK(UuidV5("e6ebd542-06ae-11e6-8e82-bba81706b27d", "foobar") ==
        "c9be99fc-326b-5066-bdba-dcd31a6d01ab");
}

TEST_CASE("config uuid: entity ids hash the key under a per-table namespace", "[config]") {
  // uuid5(uuid5(fd02801f-..., "services"), "orders"), computed independently with Python's
  // uuid module.
  CHECK(UuidV5(kKongIdNamespace, "services") == "90050c4f-539a-5bd9-bfb5-2ff1c430ca18");
  CHECK(KongEntityId("services", "orders") == "580c8aca-d632-5804-b307-a24326e1e2d5");
}

TEST_CASE("config uuid: validity check and random hex", "[config]") {
  CHECK(IsUuid("580c8aca-d632-5804-b307-a24326e1e2d5"));
  CHECK(IsUuid("580C8ACA-D632-5804-B307-A24326E1E2D5"));
  CHECK_FALSE(IsUuid("580c8aca-d632-5804-b307-a24326e1e2d"));
  CHECK_FALSE(IsUuid("580c8aca_d632-5804-b307-a24326e1e2d5"));
  CHECK_FALSE(IsUuid("580c8aca-d632-5804-b307-a24326e1e2dz"));
  CHECK(UuidV5("not-a-uuid", "x") == "00000000-0000-0000-0000-000000000000");
  std::string a = RandomHex(16);
  CHECK(a.size() == 32);
  CHECK(a != RandomHex(16));
}

}  // namespace
}  // namespace sluice::config

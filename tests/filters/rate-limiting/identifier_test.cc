// SPDX-License-Identifier: Apache-2.0
// rate-limiting limit_by: each identifier and Kong's fallback to the client IP.
#include "rate-limiting/identifier.h"

#include <catch2/catch.hpp>

namespace sluice::filters::rate_limiting {
namespace {

Config By(LimitBy by) {
  Config c;
  c.limit_by = by;
  c.path = "/exact";
  return c;
}

TEST_CASE("rate-limiting identifier: limit_by with the fallback to ip",
          "[filters][rate-limiting]") {
  RequestFacts all;
  all.consumer_id = "consumer-1";
  all.credential_id = "cred-1";
  all.service_id = "svc-1";
  all.header_value = "key-1";
  all.path = "/exact";
  all.client_ip = "10.0.0.7";
  RequestFacts none;
  none.path = "/other";
  none.client_ip = "10.0.0.7";

  CHECK(SelectIdentifier(By(LimitBy::kConsumer), all) == "consumer-1");
  CHECK(SelectIdentifier(By(LimitBy::kCredential), all) == "cred-1");
  CHECK(SelectIdentifier(By(LimitBy::kService), all) == "svc-1");
  CHECK(SelectIdentifier(By(LimitBy::kHeader), all) == "key-1");
  CHECK(SelectIdentifier(By(LimitBy::kPath), all) == "/exact");
  CHECK(SelectIdentifier(By(LimitBy::kIp), all) == "10.0.0.7");
  for (LimitBy by : {LimitBy::kConsumer, LimitBy::kCredential, LimitBy::kService, LimitBy::kHeader,
                     LimitBy::kPath, LimitBy::kIp}) {
    CHECK(SelectIdentifier(By(by), none) == "10.0.0.7");
  }
  // consumer falls back to the credential before the IP.
  RequestFacts cred_only = none;
  cred_only.credential_id = "cred-2";
  CHECK(SelectIdentifier(By(LimitBy::kConsumer), cred_only) == "cred-2");
  // path counts only on an exact match (no prefix).
  RequestFacts longer = none;
  longer.path = "/exact/more";
  CHECK(SelectIdentifier(By(LimitBy::kPath), longer) == "10.0.0.7");
}

}  // namespace
}  // namespace sluice::filters::rate_limiting

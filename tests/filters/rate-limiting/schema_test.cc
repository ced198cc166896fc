// SPDX-License-Identifier: Apache-2.0
// rate-limiting config: every default and every rejection, with the exact field-path message.
#include "rate-limiting/schema.h"

#include <string>

#include <catch2/catch.hpp>

#include <sluice/filter.hpp>

namespace sluice::filters::rate_limiting {
namespace {

std::string ErrorOf(const char* json) {
  try {
    ParseConfig(json);
  } catch (const sluice::ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST_CASE("rate-limiting schema: Kong's defaults", "[filters][rate-limiting]") {
  const Config c = ParseConfig(R"({"minute": 5})");
  CHECK(c.limits[static_cast<int>(Period::kMinute)] == 5);
  for (Period p : {Period::kSecond, Period::kHour, Period::kDay, Period::kMonth, Period::kYear})
    CHECK_FALSE(c.limits[static_cast<int>(p)].has_value());
  CHECK(c.limit_by == LimitBy::kConsumer);
  CHECK(c.policy == Policy::kLocal);
  CHECK(c.fault_tolerant);
  CHECK_FALSE(c.hide_client_headers);
  CHECK(c.error_code == 429);
  CHECK(c.error_message == "API rate limit exceeded");
  CHECK(c.sync_rate == -1);
  CHECK(c.redis.host.empty());
  CHECK(c.redis.port == 6379);
  CHECK(c.redis.timeout_ms == 2000);
  CHECK(c.redis.username.empty());
  CHECK(c.redis.password.empty());
  CHECK(c.redis.database == 0);
  CHECK_FALSE(c.redis.ssl);
  CHECK(c.algorithm == Algorithm::kFixedWindow);
}

TEST_CASE("rate-limiting schema: every field read", "[filters][rate-limiting]") {
  const Config c = ParseConfig(R"({
    "second": 1, "minute": 2.5, "hour": 3, "day": 4, "month": 5, "year": 6,
    "limit_by": "header", "header_name": "X-Key", "path": "/p",
    "policy": "redis", "fault_tolerant": false, "hide_client_headers": true,
    "error_code": 503, "error_message": "slow down", "sync_rate": 0.5,
    "redis_host": "cache.local", "redis_port": 6380, "redis_timeout": 150,
    "redis_username": "u", "redis_password": "p", "redis_database": 3, "redis_ssl": false})");
  CHECK(c.limits[0] == 1);
  CHECK(c.limits[1] == 2.5);
  CHECK(c.limits[5] == 6);
  CHECK(c.limit_by == LimitBy::kHeader);
  CHECK(c.header_name == "X-Key");
  CHECK(c.path == "/p");
  CHECK(c.policy == Policy::kRedis);
  CHECK_FALSE(c.fault_tolerant);
  CHECK(c.hide_client_headers);
  CHECK(c.error_code == 503);
  CHECK(c.error_message == "slow down");
  CHECK(c.sync_rate == 0.5);
  CHECK(c.redis.host == "cache.local");
  CHECK(c.redis.port == 6380);
  CHECK(c.redis.timeout_ms == 150);
  CHECK(c.redis.username == "u");
  CHECK(c.redis.password == "p");
  CHECK(c.redis.database == 3);
}

TEST_CASE("rate-limiting schema: nested redis (Kong 3.6+) equals the flat aliases",
          "[filters][rate-limiting]") {
  const Config c = ParseConfig(R"({"minute": 1, "policy": "redis",
    "redis": {"host": "r", "port": 7000, "timeout": 10, "database": 2, "password": "pw",
              "username": "me", "ssl": false, "ssl_verify": true, "server_name": "r"},
    "redis_host": "r"})");
  CHECK(c.redis.host == "r");
  CHECK(c.redis.port == 7000);
  CHECK(c.redis.timeout_ms == 10);
  CHECK(c.redis.database == 2);
  CHECK(c.redis.username == "me");
}

TEST_CASE("rate-limiting schema: limit_by and its fields", "[filters][rate-limiting]") {
  CHECK(ParseConfig(R"({"minute": 1, "limit_by": "ip"})").limit_by == LimitBy::kIp);
  CHECK(ParseConfig(R"({"minute": 1, "limit_by": "credential"})").limit_by == LimitBy::kCredential);
  CHECK(ParseConfig(R"({"minute": 1, "limit_by": "service"})").limit_by == LimitBy::kService);
  CHECK(ParseConfig(R"({"minute": 1, "limit_by": "path", "path": "/a"})").limit_by ==
        LimitBy::kPath);
}

TEST_CASE("rate-limiting schema: token bucket", "[filters][rate-limiting]") {
  const Config c = ParseConfig(R"({"algorithm": "token-bucket", "rate": 2.5, "burst": 10})");
  CHECK(c.algorithm == Algorithm::kTokenBucket);
  CHECK(c.rate == 2.5);
  CHECK(c.burst == 10);
  CHECK(ParseConfig(R"({"algorithm": "fixed-window", "hour": 1})").algorithm ==
        Algorithm::kFixedWindow);
}

TEST_CASE("rate-limiting schema: rejections name the field", "[filters][rate-limiting]") {
  CHECK(ErrorOf(R"({})") ==
        "config: at least one of second, minute, hour, day, month, year is required");
  CHECK(ErrorOf(R"({"policy": "local"})") ==
        "config: at least one of second, minute, hour, day, month, year is required");
  CHECK(ErrorOf(R"({"minute": 0})") == "config.minute: must be greater than 0");
  CHECK(ErrorOf(R"({"second": -1})") == "config.second: must be greater than 0");
  CHECK(ErrorOf(R"({"hour": "10"})") == "config.hour: expected a number");
  CHECK(ErrorOf(R"({"minute": 20, "hour": 10})") ==
        "config: The limit for hour(10.0) cannot be lower than the limit for minute(20.0)");
  CHECK(ErrorOf(R"({"second": 5, "year": 4})") ==
        "config: The limit for year(4.0) cannot be lower than the limit for second(5.0)");
  CHECK(ErrorOf(R"({"minute": 1, "bogus": 1})") == "config.bogus: unknown field");
  CHECK(ErrorOf(R"({"minute": 1, "limit_by": "user"})") ==
        "config.limit_by: expected one of: consumer, credential, ip, service, header, path");
  CHECK(ErrorOf(R"({"minute": 1, "limit_by": "header"})") ==
        "config: header_name is required when limit_by is header");
  CHECK(ErrorOf(R"({"minute": 1, "header_name": "bad name"})") ==
        "config.header_name: must be a valid header name");
  CHECK(ErrorOf(R"({"minute": 1, "limit_by": "path"})") ==
        "config: path is required when limit_by is path");
  CHECK(ErrorOf(R"({"minute": 1, "path": "nope"})") == "config.path: must start with /");
  CHECK(ErrorOf(R"({"minute": 1, "policy": "cluster"})") ==
        "config.policy: cluster needs a database and is not available in DB-less mode; use "
        "local or redis");
  CHECK(ErrorOf(R"({"minute": 1, "policy": "memcached"})") ==
        "config.policy: expected one of: local, redis");
  CHECK(ErrorOf(R"({"minute": 1, "policy": "redis"})") ==
        "config.redis_host: required when policy is redis");
  CHECK(ErrorOf(R"({"minute": 1, "policy": "redis", "redis": {"port": 1}})") ==
        "config.redis.host: required when policy is redis");
  CHECK(ErrorOf(R"({"minute": 1, "redis_port": 0})") ==
        "config.redis_port: must be a port between 1 and 65535");
  CHECK(ErrorOf(R"({"minute": 1, "redis_timeout": 0})") ==
        "config.redis_timeout: must be between 1 and 2147483646");
  CHECK(ErrorOf(R"({"minute": 1, "redis_database": -1})") ==
        "config.redis_database: must be at least 0");
  CHECK(ErrorOf(R"({"minute": 1, "redis_ssl": true})") ==
        "config.redis_ssl: TLS to Redis is not supported; set it to false");
  CHECK(ErrorOf(R"({"minute": 1, "redis": {"ssl": true}})") ==
        "config.redis.ssl: TLS to Redis is not supported; set it to false");
  CHECK(ErrorOf(R"({"minute": 1, "redis": {"host": "a"}, "redis_host": "b"})") ==
        "config.redis_host: conflicts with config.redis.host");
  CHECK(ErrorOf(R"({"minute": 1, "redis": {"db": 1}})") == "config.redis.db: unknown field");
  CHECK(ErrorOf(R"({"minute": 1, "fault_tolerant": "yes"})") ==
        "config.fault_tolerant: expected a boolean");
  CHECK(ErrorOf(R"({"minute": 1, "hide_client_headers": 1})") ==
        "config.hide_client_headers: expected a boolean");
  CHECK(ErrorOf(R"({"minute": 1, "error_code": 0})") ==
        "config.error_code: must be an HTTP status code (100-599)");
  CHECK(ErrorOf(R"({"minute": 1, "error_message": 5})") ==
        "config.error_message: expected a string");
  CHECK(ErrorOf(R"({"minute": 1, "sync_rate": 1})") ==
        "config.sync_rate: sync_rate can only be used with the redis policy");
  CHECK(ErrorOf(R"({"minute": 1, "sync_rate": 0.01, "policy": "redis", "redis_host": "h"})") ==
        "config.sync_rate: sync_rate must be greater than 0.02, or -1 to disable");
  CHECK(ErrorOf(R"({"minute": 1, "algorithm": "leaky"})") ==
        "config.algorithm: expected one of: fixed-window, token-bucket");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "burst": 1})") ==
        "config: rate is required with algorithm token-bucket");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 1})") ==
        "config: burst is required with algorithm token-bucket");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 0, "burst": 1})") ==
        "config.rate: must be greater than 0 and at most 1000000");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 1, "burst": 0})") ==
        "config.burst: must be greater than 0 and at most 1000000000");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 1, "burst": 1.5})") ==
        "config.burst: expected an integer");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 1, "burst": 1, "minute": 5})") ==
        "config.minute: not used with algorithm token-bucket (use rate and burst)");
  CHECK(ErrorOf(R"({"minute": 5, "rate": 1})") ==
        "config.rate: only used with algorithm token-bucket");
  CHECK(ErrorOf(R"({"algorithm": "token-bucket", "rate": 1, "burst": 1, "policy": "redis",
                    "redis_host": "h"})") ==
        "config: algorithm token-bucket supports policy local only");
  CHECK(ErrorOf(R"([1])") == "config: expected an object");
}

}  // namespace
}  // namespace sluice::filters::rate_limiting

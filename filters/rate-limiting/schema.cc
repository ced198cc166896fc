// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/schema.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>

#include <sluice/filter.hpp>
#include <sluice/json.hpp>

namespace sluice::filters::rate_limiting {
namespace {

using sluice::json::Value;

constexpr std::string_view kNames[kPeriodCount] = {"second", "minute", "hour",
                                                   "day",    "month",  "year"};
constexpr std::string_view kTitles[kPeriodCount] = {"Second", "Minute", "Hour",
                                                    "Day",    "Month",  "Year"};

const Value* Get(const Value& obj, std::string_view key) { return obj.Find(key); }

// `value` must be one of `allowed`; Kong's wording for enums.
std::string_view OneOf(const Value& value, std::initializer_list<std::string_view> allowed) {
  const std::string& s = value.String();
  std::string list;
  for (std::string_view a : allowed) {
    if (s == a)
      return a;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  value.Fail("expected one of: " + list);
}

int IntIn(const Value& v, int64_t lo, int64_t hi, std::string_view what) {
  int64_t n = v.Integer();
  if (n < lo || n > hi)
    v.Fail(std::string(what));
  return static_cast<int>(n);
}

// Copies redis.<key> or its flat alias redis_<key>; both may be given only with equal values.
const Value* RedisField(const Value& root, const Value* nested, std::string_view key) {
  const Value* flat = Get(root, "redis_" + std::string(key));
  const Value* inner = nested == nullptr ? nullptr : Get(*nested, key);
  if (flat != nullptr && inner != nullptr) {
    bool same = flat->type() == inner->type() &&
                (flat->type() != Value::Type::kString || flat->String() == inner->String()) &&
                (flat->type() != Value::Type::kNumber || flat->Number() == inner->Number()) &&
                (flat->type() != Value::Type::kBool || flat->Bool() == inner->Bool());
    if (!same)
      flat->Fail("conflicts with " + inner->path());
  }
  return inner != nullptr ? inner : flat;
}

void ParseRedis(const Value& root, Config& c) {
  const Value* nested = Get(root, "redis");
  if (nested != nullptr) {
    nested->AllowOnly({"host", "port", "timeout", "username", "password", "database", "ssl",
                       "ssl_verify", "server_name"});
  }
  RedisOptions& r = c.redis;
  if (const Value* v = RedisField(root, nested, "host")) {
    r.host = v->String();
    if (r.host.empty())
      v->Fail("must not be empty");
  }
  if (const Value* v = RedisField(root, nested, "port"))
    r.port = IntIn(*v, 1, 65535, "must be a port between 1 and 65535");
  if (const Value* v = RedisField(root, nested, "timeout"))
    r.timeout_ms = IntIn(*v, 1, 2147483646, "must be between 1 and 2147483646");
  if (const Value* v = RedisField(root, nested, "username"))
    r.username = v->String();
  if (const Value* v = RedisField(root, nested, "password"))
    r.password = v->String();
  if (const Value* v = RedisField(root, nested, "database"))
    r.database = IntIn(*v, 0, 2147483647, "must be at least 0");
  if (const Value* v = RedisField(root, nested, "ssl")) {
    r.ssl = v->Bool();
    if (r.ssl)
      v->Fail("TLS to Redis is not supported; set it to false");
  }
  if (const Value* v = RedisField(root, nested, "ssl_verify"))
    r.ssl_verify = v->Bool();
  if (const Value* v = RedisField(root, nested, "server_name"))
    r.server_name = v->String();
  if (c.policy == Policy::kRedis && r.host.empty()) {
    throw sluice::ConfigError(nested != nullptr
                                  ? "config.redis.host: required when policy is redis"
                                  : "config.redis_host: required when policy is redis");
  }
}

}  // namespace

std::string_view PeriodName(Period p) { return kNames[static_cast<int>(p)]; }

std::string_view PeriodTitle(Period p) { return kTitles[static_cast<int>(p)]; }

Config ParseConfig(std::string_view json) {
  Value root = sluice::json::Parse(json);
  root.AllowOnly({"second",
                  "minute",
                  "hour",
                  "day",
                  "month",
                  "year",
                  "limit_by",
                  "header_name",
                  "path",
                  "policy",
                  "fault_tolerant",
                  "hide_client_headers",
                  "error_code",
                  "error_message",
                  "sync_rate",
                  "redis",
                  "redis_host",
                  "redis_port",
                  "redis_password",
                  "redis_username",
                  "redis_database",
                  "redis_timeout",
                  "redis_ssl",
                  "redis_ssl_verify",
                  "redis_server_name",
                  "algorithm",
                  "rate",
                  "burst"});
  Config c;

  if (const Value* v = Get(root, "algorithm")) {
    c.algorithm = OneOf(*v, {"fixed-window", "token-bucket"}) == "token-bucket"
                      ? Algorithm::kTokenBucket
                      : Algorithm::kFixedWindow;
  }
  bool any_limit = false;
  for (int i = 0; i < kPeriodCount; ++i) {
    const Value* v = Get(root, kNames[i]);
    if (v == nullptr)
      continue;
    if (c.algorithm == Algorithm::kTokenBucket)
      v->Fail("not used with algorithm token-bucket (use rate and burst)");
    double n = v->Number();
    if (!(n > 0) || !std::isfinite(n))
      v->Fail("must be greater than 0");
    c.limits[i] = n;
    any_limit = true;
  }
  if (c.algorithm == Algorithm::kFixedWindow) {
    if (!any_limit)
      root.Fail("at least one of second, minute, hour, day, month, year is required");
    // Kong: a longer period may not allow fewer requests than a shorter one.
    for (int i = 0; i < kPeriodCount; ++i) {
      for (int j = i + 1; j < kPeriodCount && c.limits[i]; ++j) {
        if (c.limits[j] && *c.limits[j] < *c.limits[i]) {
          char msg[200];
          std::snprintf(msg, sizeof msg,
                        "The limit for %s(%.1f) cannot be lower than the limit for %s(%.1f)",
                        kNames[j].data(), *c.limits[j], kNames[i].data(), *c.limits[i]);
          root.Fail(msg);
        }
      }
    }
    for (std::string_view f : {"rate", "burst"}) {
      if (const Value* v = Get(root, f))
        v->Fail("only used with algorithm token-bucket");
    }
  } else {
    const Value* rate = Get(root, "rate");
    const Value* burst = Get(root, "burst");
    if (rate == nullptr)
      root.Fail("rate is required with algorithm token-bucket");
    if (burst == nullptr)
      root.Fail("burst is required with algorithm token-bucket");
    c.rate = rate->Number();
    if (!(c.rate > 0) || !std::isfinite(c.rate) || c.rate > 1e6)
      rate->Fail("must be greater than 0 and at most 1000000");
    c.burst = burst->Integer();
    if (c.burst <= 0 || c.burst > 1000000000)
      burst->Fail("must be greater than 0 and at most 1000000000");
  }

  if (const Value* v = Get(root, "limit_by")) {
    std::string_view s = OneOf(*v, {"consumer", "credential", "ip", "service", "header", "path"});
    c.limit_by = s == "consumer"     ? LimitBy::kConsumer
                 : s == "credential" ? LimitBy::kCredential
                 : s == "ip"         ? LimitBy::kIp
                 : s == "service"    ? LimitBy::kService
                 : s == "header"     ? LimitBy::kHeader
                                     : LimitBy::kPath;
  }
  if (const Value* v = Get(root, "header_name")) {
    c.header_name = v->String();
    for (char ch : c.header_name) {
      if (ch <= ' ' || ch >= 127 || ch == ':')
        v->Fail("must be a valid header name");
    }
  }
  if (c.limit_by == LimitBy::kHeader && c.header_name.empty())
    root.Fail("header_name is required when limit_by is header");
  if (const Value* v = Get(root, "path")) {
    c.path = v->String();
    if (c.path.empty() || c.path[0] != '/')
      v->Fail("must start with /");
  }
  if (c.limit_by == LimitBy::kPath && c.path.empty())
    root.Fail("path is required when limit_by is path");

  if (const Value* v = Get(root, "policy")) {
    if (v->String() == "cluster")
      v->Fail("cluster needs a database and is not available in DB-less mode; use local or redis");
    c.policy = OneOf(*v, {"local", "redis"}) == "redis" ? Policy::kRedis : Policy::kLocal;
  }
  if (c.algorithm == Algorithm::kTokenBucket && c.policy == Policy::kRedis)
    root.Fail("algorithm token-bucket supports policy local only");
  if (const Value* v = Get(root, "fault_tolerant"))
    c.fault_tolerant = v->Bool();
  if (const Value* v = Get(root, "hide_client_headers"))
    c.hide_client_headers = v->Bool();
  if (const Value* v = Get(root, "error_code"))
    c.error_code = IntIn(*v, 100, 599, "must be an HTTP status code (100-599)");
  if (const Value* v = Get(root, "error_message"))
    c.error_message = v->String();
  if (const Value* v = Get(root, "sync_rate")) {
    c.sync_rate = v->Number();
    if (c.sync_rate != -1) {
      if (c.policy != Policy::kRedis)
        v->Fail("sync_rate can only be used with the redis policy");
      if (c.sync_rate < 0.02)
        v->Fail("sync_rate must be greater than 0.02, or -1 to disable");
    }
  }
  ParseRedis(root, c);
  return c;
}

}  // namespace sluice::filters::rate_limiting

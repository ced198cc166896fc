// SPDX-License-Identifier: Apache-2.0
// The rate-limiting config: Kong's fields and defaults (reference/kong.md §5.1) plus sluice's
// token bucket, parsed once from the plugin's `config:` JSON into an immutable Config that every
// worker reads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::filters::rate_limiting {

// Kong's periods, shortest first (the order of its validation and of our headers).
enum class Period : int { kSecond = 0, kMinute, kHour, kDay, kMonth, kYear };
inline constexpr int kPeriodCount = 6;

enum class LimitBy { kConsumer, kCredential, kIp, kService, kHeader, kPath };
enum class Policy { kLocal, kRedis };
enum class Algorithm { kFixedWindow, kTokenBucket };

struct RedisOptions {
  std::string host;  // required with policy redis
  int port = 6379;
  int timeout_ms = 2000;
  std::string username;  // empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  int database = 0;
  bool ssl = false;  // only false is accepted (no TLS to Redis yet)
  bool ssl_verify = false;
  std::string server_name;
};

struct Config {
  // One limit per period; nullopt when that period is not limited. Kong's type is "number".
  std::array<std::optional<double>, kPeriodCount> limits;
  LimitBy limit_by = LimitBy::kConsumer;
  std::string header_name;  // limit_by header
  std::string path;         // limit_by path
  Policy policy = Policy::kLocal;
  bool fault_tolerant = true;
  bool hide_client_headers = false;
  int error_code = 429;
  std::string error_message = "API rate limit exceeded";
  double sync_rate = -1;  // accepted as Kong validates it; counting is always synchronous
  RedisOptions redis;
  Algorithm algorithm = Algorithm::kFixedWindow;
  double rate = 0;    // token-bucket: tokens per second
  int64_t burst = 0;  // token-bucket: bucket size
};

// Parses and validates the `config:` JSON text. Throws sluice::ConfigError whose message starts
// with the field path ("config.minute: must be greater than 0").
Config ParseConfig(std::string_view json);

// "second", "minute", ... and "Second", "Minute", ... (header spelling).
std::string_view PeriodName(Period p);
std::string_view PeriodTitle(Period p);

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/handler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include <sluice/filter.hpp>

#include "rate-limiting/identifier.h"
#include "rate-limiting/redis_client.h"
#include "rate-limiting/resp.h"
#include "rate-limiting/schema.h"
#include "rate-limiting/token_bucket.h"
#include "rate-limiting/window.h"

namespace sluice::filters::rate_limiting {
namespace {

const sluice_host_api* g_host = nullptr;

constexpr std::string_view kInternalError = R"({"message":"An unexpected error occurred"})";
constexpr std::string_view kJson = "application/json; charset=utf-8";

struct WorkerState {
  std::unique_ptr<RedisClient> redis;  // policy redis only
};

// Lives in the request arena; trivially destructible apart from the ticket it may hold.
struct RequestState {
  const Config* config = nullptr;
  WorkerState* worker = nullptr;
  sluice_request* req = nullptr;
  uint64_t ticket = 0;  // a Redis batch in flight (the request is paused)
  int64_t now_ms = 0;
  Decision decision;
  bool set_headers = false;  // add decision.headers to the response
};

std::optional<std::string_view> Info(sluice_request* req, sluice_info id) {
  sluice_str out{};
  if (g_host->request_info(req, id, &out) != SLUICE_OK)
    return std::nullopt;
  return sluice::View(out);
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LogWarn(sluice_request* req, std::string_view message) {
  g_host->log(req, SLUICE_LOG_WARN, sluice::Str(message));
}

// The counters' scope: the matched route and service (the ABI does not tell a filter its
// instance's own scope; see README), and the limit_by identifier.
struct Scope {
  std::string_view route_id;
  std::string_view service_id;
  std::string_view identifier;
};

Scope ReadScope(sluice_request* req, const Config& c) {
  RequestFacts facts;
  facts.consumer_id = Info(req, SLUICE_INFO_CONSUMER_ID);
  facts.credential_id = Info(req, SLUICE_INFO_CREDENTIAL_ID);
  facts.service_id = Info(req, SLUICE_INFO_SERVICE_ID);
  if (c.limit_by == LimitBy::kHeader) {
    sluice_str v{};
    if (g_host->header_get(req, SLUICE_MAP_REQUEST, sluice::Str(c.header_name), 0, &v) ==
        SLUICE_OK) {
      facts.header_value = sluice::View(v);
    }
  }
  facts.path = Info(req, SLUICE_INFO_PATH).value_or("");
  facts.client_ip = Info(req, SLUICE_INFO_CLIENT_ADDRESS).value_or("");
  Scope s;
  s.route_id = Info(req, SLUICE_INFO_ROUTE_ID).value_or("");
  s.service_id = facts.service_id.value_or("");
  s.identifier = SelectIdentifier(c, facts);
  return s;
}

void SendLimited(RequestState* st) {
  sluice_header headers[std::tuple_size_v<decltype(Decision::headers)> + 1];
  size_t n = 0;
  headers[n++] = {sluice::Str("Content-Type"), sluice::Str(kJson)};
  for (int i = 0; i < st->decision.header_count; ++i) {
    const HeaderValue& h = st->decision.headers[i];
    headers[n++] = {sluice::Str(h.name), sluice::Str(h.view())};
  }
  const std::string body =
      ErrorBody(st->config->error_message, Info(st->req, SLUICE_INFO_REQUEST_ID).value_or(""));
  g_host->send_local_reply(st->req, st->config->error_code, headers, n, sluice::Str(body));
}

void SendInternalError(sluice_request* req) {
  sluice_header h{sluice::Str("Content-Type"), sluice::Str(kJson)};
  g_host->send_local_reply(req, 500, &h, 1, sluice::Str(kInternalError));
}

// Turns the decision into the hook's answer: a limit reply, or on with headers for later.
sluice_action Apply(RequestState* st) {
  if (!st->decision.allowed) {
    SendLimited(st);
    return SLUICE_ACTION_STOP;
  }
  st->set_headers = st->decision.header_count > 0;
  return SLUICE_ACTION_CONTINUE;
}

// The counter store failed: Kong's fault_tolerant lets the request through without headers.
sluice_action StoreFailed(RequestState* st, std::string_view what) {
  LogWarn(st->req, "rate-limiting: counters unavailable (" + std::string(what) +
                       (st->config->fault_tolerant ? "); request let through" : ")"));
  if (st->config->fault_tolerant)
    return SLUICE_ACTION_CONTINUE;
  SendInternalError(st->req);
  return SLUICE_ACTION_STOP;
}

bool SharedAdd(void*, std::string_view key, int64_t delta, uint64_t ttl_ms, int64_t* out) {
  return g_host->shared_counter_add(sluice::Str(key), delta, ttl_ms, out) == SLUICE_OK;
}

sluice_action RunTokenBucket(RequestState* st, const Scope& s) {
  const Config& c = *st->config;
  std::string prefix = "rate-limiting:tb:";
  prefix.append(s.route_id).append(":").append(s.service_id).append(":").append(s.identifier);
  TokenResult r = TakeToken(MakeBucket(c.rate, c.burst), prefix, NowUs(), &SharedAdd, nullptr);
  if (!r.ok)
    return StoreFailed(st, "shared counter store full");
  Decision& d = st->decision;
  d.allowed = r.allowed;
  if (!c.hide_client_headers) {
    d.Add("RateLimit-Limit", static_cast<double>(c.burst));
    d.Add("RateLimit-Remaining", static_cast<double>(r.remaining));
    d.Add("RateLimit-Reset", static_cast<double>(r.reset_s));
    if (!r.allowed)
      d.Add("Retry-After", static_cast<double>(r.retry_after_s));
  }
  return Apply(st);
}

// policy local: one shared counter per period; a refused request takes its counts back, so
// only allowed requests count (Kong's local policy).
sluice_action RunLocal(RequestState* st, const Scope& s) {
  const Config& c = *st->config;
  Usages usages{};
  std::string keys[kPeriodCount];
  for (int i = 0; i < kPeriodCount; ++i) {
    if (!c.limits[i])
      continue;
    const auto p = static_cast<Period>(i);
    keys[i] = "rate-limiting:" +
              CounterKey(s.route_id, s.service_id, s.identifier, WindowStartMs(p, st->now_ms), p);
    const int64_t ttl = std::max<int64_t>(1, WindowEndMs(p, st->now_ms) - st->now_ms);
    int64_t v = 0;
    if (g_host->shared_counter_add(sluice::Str(keys[i]), 1, static_cast<uint64_t>(ttl), &v) !=
        SLUICE_OK) {
      for (int j = 0; j < i; ++j) {
        if (c.limits[j])
          g_host->shared_counter_add(sluice::Str(keys[j]), -1, 1, nullptr);
      }
      return StoreFailed(st, "shared counter store full");
    }
    usages[i] = {true, *c.limits[i], static_cast<double>(v - 1)};
  }
  st->decision = Decide(usages, st->now_ms, c.hide_client_headers);
  if (!st->decision.allowed) {
    for (int i = 0; i < kPeriodCount; ++i) {
      if (c.limits[i])
        g_host->shared_counter_add(sluice::Str(keys[i]), -1, 1, nullptr);
    }
  }
  return Apply(st);
}

void OnRedisReplies(void* ctx, bool ok, const Reply* replies, size_t count,
                    std::string_view error) {
  auto* st = static_cast<RequestState*>(ctx);
  st->ticket = 0;
  sluice_action action = SLUICE_ACTION_CONTINUE;
  try {
    const Config& c = *st->config;
    Usages usages{};
    size_t next = 0;
    std::string failure = ok ? "" : std::string(error);
    for (int i = 0; i < kPeriodCount && failure.empty(); ++i) {
      if (!c.limits[i])
        continue;
      // Two replies per period: INCRBY (the count including this request), then EXPIRE.
      if (next + 2 > count) {
        failure = "short reply";
        break;
      }
      ReplyView incr = Inspect(*replies[next]);
      ReplyView expire = Inspect(*replies[next + 1]);
      next += 2;
      if (incr.type != ReplyView::Type::kInteger || expire.type == ReplyView::Type::kError) {
        failure = incr.type == ReplyView::Type::kError ? std::string(incr.text)
                                                       : std::string(expire.text);
        if (failure.empty())
          failure = "unexpected reply";
        break;
      }
      usages[i] = {true, *c.limits[i], static_cast<double>(incr.integer - 1)};
    }
    if (failure.empty()) {
      st->decision = Decide(usages, st->now_ms, c.hide_client_headers);
      action = Apply(st);
    } else {
      action = StoreFailed(st, "redis: " + failure);
    }
  } catch (const std::exception& e) {
    LogWarn(st->req, e.what());
    SendInternalError(st->req);
    action = SLUICE_ACTION_STOP;
  }
  // A reply sent while paused ends the pause by itself; otherwise go on.
  if (action == SLUICE_ACTION_CONTINUE)
    g_host->request_resume(st->req);
}

// policy redis (Kong's sync mode): INCRBY and EXPIRE per period in one pipelined write; every
// request counts, refused ones included, as in Kong.
sluice_action RunRedis(RequestState* st, const Scope& s) {
  const Config& c = *st->config;
  std::string commands;
  size_t count = 0;
  for (int i = 0; i < kPeriodCount; ++i) {
    if (!c.limits[i])
      continue;
    const auto p = static_cast<Period>(i);
    const std::string key =
        CounterKey(s.route_id, s.service_id, s.identifier, WindowStartMs(p, st->now_ms), p);
    const int64_t ttl_s = (WindowEndMs(p, st->now_ms) - st->now_ms + 999) / 1000;
    if (!AppendCommand(&commands, {"INCRBY", key, "1"}) ||
        !AppendCommand(&commands, {"EXPIRE", key, std::to_string(std::max<int64_t>(1, ttl_s))})) {
      return StoreFailed(st, "cannot encode a redis command");
    }
    count += 2;
  }
  if (st->worker == nullptr || st->worker->redis == nullptr)
    return StoreFailed(st, "redis: no client on this worker");
  st->ticket = st->worker->redis->Send(commands, count, &OnRedisReplies, st);
  if (st->ticket == 0)
    return StoreFailed(st, "redis: no connection");
  return SLUICE_ACTION_PAUSE;
}

}  // namespace

void SetHost(const sluice_host_api* host) { g_host = host; }

sluice_status OnConfigNew(sluice_instance* instance, sluice_str json, void** out) {
  std::string error;
  try {
    auto config = std::make_unique<Config>(ParseConfig(sluice::View(json)));
    if (config->policy == Policy::kRedis && !SLUICE_HOST_HAS(g_host, tcp_connect))
      throw sluice::ConfigError("config.policy: redis needs a host with async TCP (tcp_connect)");
    *out = config.release();
    return SLUICE_OK;
  } catch (const sluice::ConfigError& e) {
    error = e.what();
  } catch (const std::exception& e) {
    error = std::string("config: ") + e.what();
  }
  g_host->config_error(instance, sluice::Str(error));
  return SLUICE_ERR_REJECTED;
}

void OnConfigDestroy(void* config) { delete static_cast<Config*>(config); }

sluice_status OnWorkerNew(void* config, sluice_worker* worker, void** out) {
  const auto* c = static_cast<const Config*>(config);
  auto* ws = new (std::nothrow) WorkerState;
  if (ws == nullptr)
    return SLUICE_ERR_NO_MEMORY;
  try {
    if (c->policy == Policy::kRedis)
      ws->redis = std::make_unique<RedisClient>(g_host, worker, c->redis);
  } catch (const std::exception&) {
    delete ws;
    return SLUICE_ERR_NO_MEMORY;
  }
  *out = ws;
  return SLUICE_OK;
}

void OnWorkerDestroy(void*, void* worker_state) { delete static_cast<WorkerState*>(worker_state); }

sluice_status OnRequestNew(sluice_request* req, void* config, void* worker_state, void** out) {
  void* mem = g_host->arena_alloc(req, sizeof(RequestState), alignof(RequestState));
  if (mem == nullptr)
    return SLUICE_ERR_NO_MEMORY;
  auto* st = new (mem) RequestState;
  st->config = static_cast<const Config*>(config);
  st->worker = static_cast<WorkerState*>(worker_state);
  st->req = req;
  *out = st;
  return SLUICE_OK;
}

void OnRequestDestroy(sluice_request*, void*, void* request_state) {
  auto* st = static_cast<RequestState*>(request_state);
  if (st->ticket != 0 && st->worker != nullptr && st->worker->redis != nullptr)
    st->worker->redis->Cancel(st->ticket);
  st->~RequestState();
}

sluice_action OnRequestHeaders(sluice_request* req, void*, void* request_state, bool) {
  auto* st = static_cast<RequestState*>(request_state);
  try {
    const Config& c = *st->config;
    const int64_t now_us = NowUs();
    st->now_ms = now_us / 1000;
    const Scope scope = ReadScope(req, c);
    if (c.algorithm == Algorithm::kTokenBucket)
      return RunTokenBucket(st, scope);
    if (c.policy == Policy::kRedis)
      return RunRedis(st, scope);
    return RunLocal(st, scope);
  } catch (const std::exception& e) {
    g_host->log(req, SLUICE_LOG_ERROR, sluice::Str(e.what()));
    SendInternalError(req);
    return SLUICE_ACTION_STOP;
  }
}

sluice_action OnResponseHeaders(sluice_request* req, void*, void* request_state, bool) {
  auto* st = static_cast<RequestState*>(request_state);
  if (!st->set_headers)
    return SLUICE_ACTION_CONTINUE;
  for (int i = 0; i < st->decision.header_count; ++i) {
    const HeaderValue& h = st->decision.headers[i];
    g_host->header_set(req, SLUICE_MAP_RESPONSE, sluice::Str(h.name), sluice::Str(h.view()));
  }
  return SLUICE_ACTION_CONTINUE;
}

}  // namespace sluice::filters::rate_limiting

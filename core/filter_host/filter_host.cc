// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/filter_host.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

#include "core/common/log.h"
#include "core/filter_host/chain.h"
#include "core/filter_host/http_call.h"
#include "core/filter_host/registry.h"
#include "core/filter_host/tcp.h"
#include "core/filter_host/worker_host.h"

namespace sluice::filter_host {
namespace {

absl::string_view View(sluice_str s) {
  return s.data == nullptr ? absl::string_view() : absl::string_view(s.data, s.len);
}

Slot* AsSlot(sluice_request* r) { return reinterpret_cast<Slot*>(r); }

bool ValidLevel(sluice_log_level level) {
  return level >= SLUICE_LOG_DEBUG && level <= SLUICE_LOG_ERROR;
}

// Every request callback starts here: a NULL handle is an argument error, not a crash.
#define SLUICE_SLOT_OR_RETURN(req)         \
  Slot* s = AsSlot(req);                   \
  if (s == nullptr || s->chain == nullptr) \
  return SLUICE_ERR_INVALID

sluice_status ConfigError(sluice_instance* instance, sluice_str message) {
  auto* in = reinterpret_cast<Instance*>(instance);
  if (in == nullptr)
    return SLUICE_ERR_INVALID;
  if (!in->configuring)
    return SLUICE_ERR_WRONG_PHASE;
  in->errors.emplace_back(View(message));
  return SLUICE_OK;
}

sluice_status MetricDefine(sluice_instance* instance, const sluice_metric_desc* desc,
                           sluice_metric** out) {
  auto* in = reinterpret_cast<Instance*>(instance);
  if (in == nullptr || desc == nullptr || out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!in->configuring)
    return SLUICE_ERR_WRONG_PHASE;
  absl::StatusOr<Metric*> m = in->host->metrics().Define(*desc);
  if (!m.ok()) {
    log::Error("filter %s: %s", in->name, m.status().message());
    return SLUICE_ERR_INVALID;
  }
  *out = reinterpret_cast<sluice_metric*>(*m);
  return SLUICE_OK;
}

sluice_status CredentialsGet(sluice_instance* instance, sluice_str kind, sluice_str* out) {
  auto* in = reinterpret_cast<Instance*>(instance);
  if (in == nullptr || out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!in->configuring || in->source == nullptr)
    return SLUICE_ERR_WRONG_PHASE;
  if (View(kind) != "jwt_secrets")
    return SLUICE_ERR_NOT_FOUND;
  nlohmann::json all = nlohmann::json::array();
  for (const config::Consumer& c : in->source->consumers) {
    for (const config::JwtSecret& j : c.jwt_secrets) {
      all.push_back(
          {{"id", j.id},
           {"key", j.key},
           {"secret", j.secret},
           {"rsa_public_key", j.rsa_public_key},
           {"algorithm", j.algorithm},
           {"tags", j.tags},
           {"consumer", {{"id", c.id}, {"username", c.username}, {"custom_id", c.custom_id}}}});
    }
  }
  in->scratch = all.dump();
  *out = {in->scratch.data(), in->scratch.size()};
  return SLUICE_OK;
}

bool LogEnabled(sluice_log_level level) {
  return ValidLevel(level) && log::Enabled(static_cast<log::Level>(level));
}

sluice_status Log(sluice_request* req, sluice_log_level level, sluice_str message) {
  if (!ValidLevel(level))
    return SLUICE_ERR_INVALID;
  if (!log::Enabled(static_cast<log::Level>(level)))
    return SLUICE_OK;
  if (req == nullptr) {
    log::Write(static_cast<log::Level>(level), View(message));
    return SLUICE_OK;
  }
  SLUICE_SLOT_OR_RETURN(req);
  s->chain->Log(s, level, View(message));
  return SLUICE_OK;
}

sluice_status RequestInfo(sluice_request* req, sluice_info info, sluice_str* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->Info(s, info, out);
}

sluice_status RequestInfoInt(sluice_request* req, sluice_info info, int64_t* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->InfoInt(s, info, out);
}

sluice_status HeaderGet(sluice_request* req, sluice_header_map map, sluice_str name, size_t index,
                        sluice_str* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderGet(s, map, name, index, out);
}

sluice_status HeaderCount(sluice_request* req, sluice_header_map map, size_t* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderCount(s, map, out);
}

sluice_status HeaderAt(sluice_request* req, sluice_header_map map, size_t index,
                       sluice_header* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderAt(s, map, index, out);
}

sluice_status HeaderSet(sluice_request* req, sluice_header_map map, sluice_str name,
                        sluice_str value) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderWrite(s, map, name, value, 0);
}

sluice_status HeaderAdd(sluice_request* req, sluice_header_map map, sluice_str name,
                        sluice_str value) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderWrite(s, map, name, value, 1);
}

sluice_status HeaderRemove(sluice_request* req, sluice_header_map map, sluice_str name) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->HeaderWrite(s, map, name, {"-", 1}, 2);
}

sluice_status UpstreamPathSet(sluice_request* req, sluice_str path) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->UpstreamSet(s, path, true);
}

sluice_status UpstreamQuerySet(sluice_request* req, sluice_str query) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->UpstreamSet(s, query, false);
}

sluice_status UpstreamMethodSet(sluice_request* req, sluice_str method) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->UpstreamMethodSet(s, method);
}

sluice_status UriCaptureGet(sluice_request* req, sluice_str name, sluice_str* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->UriCapture(s, name, out);
}

sluice_status BodyGet(sluice_request* req, sluice_str* out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->BodyGet(s, out);
}

sluice_status BodyReplace(sluice_request* req, sluice_str data) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->BodyReplace(s, data);
}

sluice_status SendLocalReply(sluice_request* req, int32_t status, const sluice_header* headers,
                             size_t header_count, sluice_str body) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->LocalReply(s, status, headers, header_count, body);
}

void* ArenaAlloc(sluice_request* req, size_t size, size_t align) {
  Slot* s = AsSlot(req);
  if (s == nullptr || s->chain == nullptr)
    return nullptr;
  return s->chain->arena().Allocate(size, align);
}

sluice_status CredentialSet(sluice_request* req, sluice_str credential) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->SetCredential(s, credential);
}

sluice_status ConsumerSet(sluice_request* req, sluice_str consumer) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->SetConsumer(s, consumer);
}

sluice_status MetricAdd(sluice_metric* m, const sluice_str* labels, size_t n, double v) {
  if (m == nullptr)
    return SLUICE_ERR_INVALID;
  return reinterpret_cast<Metric*>(m)->Add(labels, n, v);
}

sluice_status MetricSet(sluice_metric* m, const sluice_str* labels, size_t n, double v) {
  if (m == nullptr)
    return SLUICE_ERR_INVALID;
  return reinterpret_cast<Metric*>(m)->Set(labels, n, v);
}

sluice_status MetricObserve(sluice_metric* m, const sluice_str* labels, size_t n, double v) {
  if (m == nullptr)
    return SLUICE_ERR_INVALID;
  return reinterpret_cast<Metric*>(m)->Observe(labels, n, v);
}

FilterHost* g_host = nullptr;  // the process's FilterHost, for shared_counter_add

sluice_status UpstreamHealthList(sluice_target_health_fn fn, void* user_data) {
  if (fn == nullptr)
    return SLUICE_ERR_INVALID;
  if (g_host != nullptr)
    g_host->ListTargets(fn, user_data);
  return SLUICE_OK;
}

sluice_status SharedCounterAdd(sluice_str key, int64_t delta, uint64_t ttl_ms, int64_t* out_value) {
  if (key.len == 0 || key.data == nullptr || g_host == nullptr)
    return SLUICE_ERR_INVALID;
  return g_host->counters().Add(View(key), delta, ttl_ms, SharedCounters::NowMs(), out_value)
             ? SLUICE_OK
             : SLUICE_ERR_LIMIT;
}

sluice_worker* RequestWorker(sluice_request* req) {
  Slot* s = AsSlot(req);
  if (s == nullptr || s->chain == nullptr || !s->chain->active())
    return nullptr;
  return reinterpret_cast<sluice_worker*>(s->chain->worker());
}

sluice_status RequestResume(sluice_request* req) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->Resume(s);
}

sluice_status RequestRefNew(sluice_request* req, sluice_request_ref** out) {
  SLUICE_SLOT_OR_RETURN(req);
  return s->chain->NewRef(s, out);
}

sluice_status PostRef(sluice_request_ref* handle, Mailbox::Kind kind, sluice_request_fn fn,
                      void* user_data) {
  auto* ref = reinterpret_cast<RequestRef*>(handle);
  if (ref == nullptr)
    return SLUICE_ERR_INVALID;
  ref->refs.fetch_add(1, std::memory_order_relaxed);
  if (!ref->mailbox->Post({kind, ref, fn, user_data})) {
    ref->Unref();
    return SLUICE_ERR_GONE;
  }
  return SLUICE_OK;
}

sluice_status RequestRefResume(sluice_request_ref* ref) {
  return PostRef(ref, Mailbox::Kind::kResume, nullptr, nullptr);
}

sluice_status RequestRefPost(sluice_request_ref* ref, sluice_request_fn fn, void* user_data) {
  if (fn == nullptr)
    return SLUICE_ERR_INVALID;
  return PostRef(ref, Mailbox::Kind::kPost, fn, user_data);
}

sluice_status RequestRefRelease(sluice_request_ref* handle) {
  auto* ref = reinterpret_cast<RequestRef*>(handle);
  if (ref == nullptr)
    return SLUICE_ERR_INVALID;
  ref->Unref();
  return SLUICE_OK;
}

sluice_status TimerStart(sluice_worker* worker, uint64_t delay_ms, uint64_t repeat_ms,
                         sluice_timer_fn fn, void* user_data, sluice_timer** out) {
  if (worker == nullptr)
    return SLUICE_ERR_INVALID;
  return reinterpret_cast<WorkerHost*>(worker)->StartTimer(delay_ms, repeat_ms, fn, user_data, out);
}

sluice_status TimerCancel(sluice_timer* timer) { return WorkerHost::CancelTimer(timer); }

#undef SLUICE_SLOT_OR_RETURN

}  // namespace

void FilterHost::ListTargets(sluice_target_health_fn fn, void* user_data) {
  absl::MutexLock lock(&health_mu_);
  if (health_lister_)
    health_lister_(fn, user_data);
}

void FilterHost::SetHealthLister(HealthLister lister) {
  absl::MutexLock lock(&health_mu_);
  health_lister_ = std::move(lister);
}

FilterHost::FilterHost() {
  g_host = this;
  static const char kVersion[] = SLUICE_VERSION;
  api_.struct_size = sizeof(sluice_host_api);
  api_.abi_major = SLUICE_ABI_VERSION_MAJOR;
  api_.abi_minor = SLUICE_ABI_VERSION_MINOR;
  api_.host_version = {kVersion, sizeof(kVersion) - 1};
  api_.config_error = &ConfigError;
  api_.metric_define = &MetricDefine;
  api_.log_enabled = &LogEnabled;
  api_.log = &Log;
  api_.request_info = &RequestInfo;
  api_.request_info_int = &RequestInfoInt;
  api_.header_get = &HeaderGet;
  api_.header_count = &HeaderCount;
  api_.header_at = &HeaderAt;
  api_.header_set = &HeaderSet;
  api_.header_add = &HeaderAdd;
  api_.header_remove = &HeaderRemove;
  api_.upstream_path_set = &UpstreamPathSet;
  api_.upstream_query_set = &UpstreamQuerySet;
  api_.upstream_method_set = &UpstreamMethodSet;
  api_.uri_capture_get = &UriCaptureGet;
  api_.body_get = &BodyGet;
  api_.body_replace = &BodyReplace;
  api_.send_local_reply = &SendLocalReply;
  api_.arena_alloc = &ArenaAlloc;
  api_.consumer_set = &ConsumerSet;
  api_.metric_add = &MetricAdd;
  api_.metric_set = &MetricSet;
  api_.metric_observe = &MetricObserve;
  api_.shared_counter_add = &SharedCounterAdd;
  api_.request_worker = &RequestWorker;
  api_.request_resume = &RequestResume;
  api_.request_ref_new = &RequestRefNew;
  api_.request_ref_resume = &RequestRefResume;
  api_.request_ref_post = &RequestRefPost;
  api_.request_ref_release = &RequestRefRelease;
  api_.timer_start = &TimerStart;
  api_.timer_cancel = &TimerCancel;
  api_.credentials_get = &CredentialsGet;
  api_.credential_set = &CredentialSet;
  api_.upstream_health_list = &UpstreamHealthList;
  // http_call finds services through each worker's lookup (WorkerHost::SetServiceLookup);
  // until the proxy installs one, every service is unknown (SLUICE_ERR_NOT_FOUND).
  api_.http_call = &StartHttpCall;
  api_.http_call_cancel = &CancelHttpCall;
  api_.tcp_connect = &TcpConnect;
  api_.tcp_write = &TcpWrite;
  api_.tcp_close = &TcpClose;
}

}  // namespace sluice::filter_host

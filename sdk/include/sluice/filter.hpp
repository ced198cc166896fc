// SPDX-License-Identifier: Apache-2.0
// Header-only C++20 wrapper over the C ABI in <sluice/filter.h>: std::string_view instead of
// sluice_str, RAII per-request objects, and noexcept trampolines that catch every exception,
// log it, answer 500 and return STOP, so nothing thrown ever crosses into the host.
//
// A filter is a class deriving from sluice::Filter<Config> with a static ParseConfig and any of
// the hooks below; SLUICE_FILTER exports it:
//
//   struct Config { std::string value; };
//   class Stamp : public sluice::Filter<Config> {
//    public:
//     using Filter::Filter;
//     static Config ParseConfig(std::string_view json);  // throws sluice::ConfigError
//     sluice::Action OnResponseHeaders(sluice::Request& req) {
//       req.ResponseHeaders().Set("x-stamp", config().value);
//       return sluice::Action::kContinue;
//     }
//   };
//   SLUICE_FILTER(Stamp, "stamp", 800, "1.0.0")
//
// Hooks (all optional, detected at compile time; a body hook also sets its capability bit):
//   Action OnRequestHeaders(Request&)            Action OnRequestBody(Request&, bool eos)
//   Action OnResponseHeaders(Request&)           Action OnResponseBody(Request&, bool eos)
//   void OnLog(Request&)
// ParseConfig may also take a second parameter `sluice::ConfigContext&` to define metrics or read
// the consumers' credentials. sluice::HttpCall makes an async HTTP call to a configured service.
// One object of the derived class lives per request, constructed from the config in the request
// arena before the first hook and destroyed after on_log.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sluice/filter.h>

namespace sluice {

// Hook results (SLUICE_ACTION_*).
enum class Action : int32_t {
  kContinue = SLUICE_ACTION_CONTINUE,
  kStop = SLUICE_ACTION_STOP,
  kPause = SLUICE_ACTION_PAUSE,
  kBuffer = SLUICE_ACTION_BUFFER,
};

enum class LogLevel : int32_t {
  kDebug = SLUICE_LOG_DEBUG,
  kInfo = SLUICE_LOG_INFO,
  kWarn = SLUICE_LOG_WARN,
  kError = SLUICE_LOG_ERROR,
};

// Thrown by ParseConfig: the message is "<field path>: <what>", e.g.
// "config.minute: must be greater than 0"; the host maps the path to file:line:col.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Converts between the ABI view and std::string_view. The result borrows the same bytes.
inline std::string_view View(sluice_str s) noexcept {
  return s.len == 0 ? std::string_view() : std::string_view(s.data, s.len);
}

inline sluice_str Str(std::string_view s) noexcept { return sluice_str{s.data(), s.size()}; }

namespace internal {
// The host table handed to the entry symbol; one per module (visibility is hidden).
inline const sluice_host_api* g_host = nullptr;
}  // namespace internal

// The host's callback table; valid once the entry symbol ran.
inline const sluice_host_api& Host() noexcept { return *internal::g_host; }

// Writes a log line outside any request (any thread).
inline void Log(LogLevel level, std::string_view message) noexcept {
  Host().log(nullptr, static_cast<sluice_log_level>(level), Str(message));
}

// A metric defined in ParseConfig through ConfigContext::DefineMetric. Copyable handle; record
// from any thread. Labels are given in the order of the definition (at most 16).
class Metric {
 public:
  Metric() = default;

  explicit Metric(sluice_metric* m) noexcept : m_(m) {}

  sluice_status Add(double delta,
                    std::initializer_list<std::string_view> labels = {}) const noexcept {
    return Record(Host().metric_add, delta, labels);
  }

  sluice_status Set(double value,
                    std::initializer_list<std::string_view> labels = {}) const noexcept {
    return Record(Host().metric_set, value, labels);
  }

  sluice_status Observe(double value,
                        std::initializer_list<std::string_view> labels = {}) const noexcept {
    return Record(Host().metric_observe, value, labels);
  }

  explicit operator bool() const noexcept { return m_ != nullptr; }

 private:
  using Fn = sluice_status (*)(sluice_metric*, const sluice_str*, size_t, double);

  sluice_status Record(Fn fn, double v,
                       std::initializer_list<std::string_view> labels) const noexcept {
    if (m_ == nullptr || labels.size() > 16)
      return SLUICE_ERR_INVALID;
    sluice_str values[16];
    size_t n = 0;
    for (std::string_view l : labels)
      values[n++] = Str(l);
    return fn(m_, values, n, v);
  }

  sluice_metric* m_ = nullptr;
};

// What ParseConfig may use besides the JSON text (main thread, config time only).
class ConfigContext {
 public:
  explicit ConfigContext(sluice_instance* instance) noexcept : instance_(instance) {}

  // Defines a metric (see sluice_host_api::metric_define); throws ConfigError when refused.
  Metric DefineMetric(sluice_metric_kind kind, std::string_view name, std::string_view help,
                      std::initializer_list<std::string_view> label_names = {},
                      std::initializer_list<double> buckets = {}) const {
    sluice_str labels[16];
    if (label_names.size() > 16)
      throw ConfigError("config: too many metric labels");
    size_t n = 0;
    for (std::string_view l : label_names)
      labels[n++] = Str(l);
    sluice_metric_desc desc{};
    desc.struct_size = sizeof desc;
    desc.kind = kind;
    desc.name = Str(name);
    desc.help = Str(help);
    desc.label_names = n == 0 ? nullptr : labels;
    desc.label_count = n;
    desc.buckets = buckets.size() == 0 ? nullptr : buckets.begin();
    desc.bucket_count = buckets.size();
    sluice_metric* m = nullptr;
    if (Host().metric_define(instance_, &desc, &m) != SLUICE_OK) {
      throw ConfigError("config: metric " + std::string(name) + " could not be defined");
    }
    return Metric(m);
  }

  // 1.1: the credentials of one kind that the config's consumers hold (e.g. "jwt_secrets"), as
  // JSON array text (see sluice_host_api::credentials_get); valid until ParseConfig returns.
  // nullopt for a kind the host does not know, or a host without credentials_get.
  std::optional<std::string_view> Credentials(std::string_view kind) const noexcept {
    if (!SLUICE_HOST_HAS(&Host(), credentials_get))
      return std::nullopt;
    sluice_str out{};
    if (Host().credentials_get(instance_, Str(kind), &out) != SLUICE_OK)
      return std::nullopt;
    return View(out);
  }

  sluice_instance* raw() const noexcept { return instance_; }

 private:
  sluice_instance* instance_;
};

// One header map of a request. Views returned by Get/At are borrowed: valid until the hook
// returns or the map is written.
class Headers {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };

  Headers(sluice_request* req, sluice_header_map map) noexcept : req_(req), map_(map) {}

  // The index-th value of `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> Get(std::string_view name, size_t index = 0) const noexcept {
    sluice_str out{};
    if (Host().header_get(req_, map_, Str(name), index, &out) != SLUICE_OK)
      return std::nullopt;
    return View(out);
  }

  bool Has(std::string_view name) const noexcept { return Get(name).has_value(); }

  size_t size() const noexcept {
    size_t n = 0;
    return Host().header_count(req_, map_, &n) == SLUICE_OK ? n : 0;
  }

  Field At(size_t i) const noexcept {
    sluice_header h{};
    if (Host().header_at(req_, map_, i, &h) != SLUICE_OK)
      return {};
    return {View(h.name), View(h.value)};
  }

  sluice_status Set(std::string_view name, std::string_view value) const noexcept {
    return Host().header_set(req_, map_, Str(name), Str(value));
  }

  sluice_status Add(std::string_view name, std::string_view value) const noexcept {
    return Host().header_add(req_, map_, Str(name), Str(value));
  }

  sluice_status Remove(std::string_view name) const noexcept {
    return Host().header_remove(req_, map_, Str(name));
  }

  // Range-for over the fields in wire order (do not write the map while iterating).
  class Iterator {
   public:
    Iterator(const Headers* h, size_t i) noexcept : h_(h), i_(i) {}

    Field operator*() const noexcept { return h_->At(i_); }

    Iterator& operator++() noexcept {
      ++i_;
      return *this;
    }

    bool operator!=(const Iterator& o) const noexcept { return i_ != o.i_; }

   private:
    const Headers* h_;
    size_t i_;
  };

  Iterator begin() const noexcept { return Iterator(this, 0); }

  Iterator end() const noexcept { return Iterator(this, size()); }

 private:
  sluice_request* req_;
  sluice_header_map map_;
};

// The request as the current filter sees it; a thin, copyable view over sluice_request*.
class Request {
 public:
  explicit Request(sluice_request* req, bool end_of_stream = false) noexcept
      : req_(req), end_of_stream_(end_of_stream) {}

  Headers RequestHeaders() const noexcept { return Headers(req_, SLUICE_MAP_REQUEST); }

  Headers ResponseHeaders() const noexcept { return Headers(req_, SLUICE_MAP_RESPONSE); }

  // A text fact (SLUICE_INFO_*), valid for the request; nullopt when the request has none.
  std::optional<std::string_view> Info(sluice_info id) const noexcept {
    sluice_str out{};
    if (Host().request_info(req_, id, &out) != SLUICE_OK)
      return std::nullopt;
    return View(out);
  }

  std::optional<int64_t> InfoInt(sluice_info id) const noexcept {
    int64_t out = 0;
    if (Host().request_info_int(req_, id, &out) != SLUICE_OK)
      return std::nullopt;
    return out;
  }

  std::string_view Method() const noexcept { return Info(SLUICE_INFO_METHOD).value_or(""); }

  std::string_view Path() const noexcept { return Info(SLUICE_INFO_PATH).value_or(""); }

  std::string_view Query() const noexcept { return Info(SLUICE_INFO_QUERY).value_or(""); }

  std::string_view HostName() const noexcept { return Info(SLUICE_INFO_HOST).value_or(""); }

  std::string_view Scheme() const noexcept { return Info(SLUICE_INFO_SCHEME).value_or(""); }

  std::string_view ClientAddress() const noexcept {
    return Info(SLUICE_INFO_CLIENT_ADDRESS).value_or("");
  }

  std::optional<std::string_view> RouteName() const noexcept {
    return Info(SLUICE_INFO_ROUTE_NAME);
  }

  std::optional<std::string_view> ServiceName() const noexcept {
    return Info(SLUICE_INFO_SERVICE_NAME);
  }

  std::optional<std::string_view> ConsumerId() const noexcept {
    return Info(SLUICE_INFO_CONSUMER_ID);
  }

  sluice_status SetConsumer(std::string_view id_or_name) const noexcept {
    return Host().consumer_set(req_, Str(id_or_name));
  }

  // 1.1: records which credential authenticated the request (Kong's X-Credential-Identifier);
  // SLUICE_ERR_UNSUPPORTED on a host without credential_set.
  sluice_status SetCredential(std::string_view credential) const noexcept {
    if (!SLUICE_HOST_HAS(&Host(), credential_set))
      return SLUICE_ERR_UNSUPPORTED;
    return Host().credential_set(req_, Str(credential));
  }

  // 1.1: the credential set by SetCredential (this or an earlier filter), or nullopt.
  std::optional<std::string_view> CredentialId() const noexcept {
    return Info(SLUICE_INFO_CREDENTIAL_ID);
  }

  sluice_status SetUpstreamPath(std::string_view path) const noexcept {
    return Host().upstream_path_set(req_, Str(path));
  }

  sluice_status SetUpstreamQuery(std::string_view query) const noexcept {
    return Host().upstream_query_set(req_, Str(query));
  }

  // 1.1: the method sent upstream (NOT_FOUND from a 1.0 host).
  sluice_status SetUpstreamMethod(std::string_view method) const noexcept {
    if (!SLUICE_HOST_HAS(&Host(), upstream_method_set))
      return SLUICE_ERR_NOT_FOUND;
    return Host().upstream_method_set(req_, Str(method));
  }

  // 1.1: a capture of the route's regex or template path, by name or number ("1"); nullopt
  // when the route has none of that key (or the host is 1.0).
  std::optional<std::string_view> UriCapture(std::string_view name) const noexcept {
    sluice_str out{};
    if (!SLUICE_HOST_HAS(&Host(), uri_capture_get) ||
        Host().uri_capture_get(req_, Str(name), &out) != SLUICE_OK)
      return std::nullopt;
    return View(out);
  }

  // Body hooks: the bytes this hook is given, and their replacement.
  std::string_view Body() const noexcept {
    sluice_str out{};
    return Host().body_get(req_, &out) == SLUICE_OK ? View(out) : std::string_view();
  }

  sluice_status ReplaceBody(std::string_view data) const noexcept {
    return Host().body_replace(req_, Str(data));
  }

  bool end_of_stream() const noexcept { return end_of_stream_; }

  // Answers from the gateway; the hook then returns Action::kStop.
  sluice_status SendLocalReply(int status, std::string_view body,
                               std::initializer_list<Headers::Field> headers = {}) const noexcept {
    sluice_header fields[32];
    if (headers.size() > 32)
      return SLUICE_ERR_INVALID;
    size_t n = 0;
    for (const Headers::Field& f : headers)
      fields[n++] = sluice_header{Str(f.name), Str(f.value)};
    return Host().send_local_reply(req_, status, n == 0 ? nullptr : fields, n, Str(body));
  }

  // A local reply with a JSON body, as Kong's plugins answer: {"message":"..."} etc.
  sluice_status SendJson(int status, std::string_view json) const noexcept {
    return SendLocalReply(status, json, {{"Content-Type", "application/json; charset=utf-8"}});
  }

  // Request-owned memory (freed when the request ends); nullptr when out of memory.
  void* Allocate(size_t size, size_t align = alignof(std::max_align_t)) const noexcept {
    return Host().arena_alloc(req_, size, align);
  }

  // Copies `s` into the request arena; the view lives as long as the request.
  std::string_view Copy(std::string_view s) const noexcept {
    if (s.empty())
      return {};
    char* p = static_cast<char*>(Allocate(s.size(), 1));
    if (p == nullptr)
      return {};
    for (size_t i = 0; i < s.size(); ++i)
      p[i] = s[i];
    return std::string_view(p, s.size());
  }

  sluice_status Resume() const noexcept { return Host().request_resume(req_); }

  void Log(LogLevel level, std::string_view message) const noexcept {
    Host().log(req_, static_cast<sluice_log_level>(level), Str(message));
  }

  sluice_worker* worker() const noexcept { return Host().request_worker(req_); }

  sluice_request* raw() const noexcept { return req_; }

 private:
  sluice_request* req_;
  bool end_of_stream_;
};

// The response of an HttpCall: borrowed views, valid until the completion function returns.
class HttpResponse {
 public:
  explicit HttpResponse(const sluice_http_response& r) noexcept : r_(&r) {}

  int status() const noexcept { return r_->status; }

  // The whole body (chunked framing removed).
  std::string_view body() const noexcept { return View(r_->body); }

  size_t header_count() const noexcept { return r_->header_count; }

  // Field i (0-based, in wire order).
  Headers::Field HeaderAt(size_t i) const noexcept {
    if (i >= r_->header_count)
      return {};
    return {View(r_->headers[i].name), View(r_->headers[i].value)};
  }

  // The first field called `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const noexcept {
    for (size_t i = 0; i < r_->header_count; ++i) {
      std::string_view n = View(r_->headers[i].name);
      if (n.size() != name.size())
        continue;
      size_t k = 0;
      while (k < n.size() && Lower(n[k]) == Lower(name[k]))
        ++k;
      if (k == n.size())
        return View(r_->headers[i].value);
    }
    return std::nullopt;
  }

  const sluice_http_response& raw() const noexcept { return *r_; }

 private:
  static char Lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }

  const sluice_http_response* r_;
};

// What HttpCall::Start sends. Borrowed: the host copies everything before Start returns.
struct HttpRequest {
  std::string_view service;                   // a service `name` from the config
  std::string_view method = "GET";            // a token: "GET", "POST", ...
  std::string_view path = "/";                // path and query, starting with '/'
  std::span<const Headers::Field> headers{};  // at most 32; the host sets Host, Content-Length
  std::string_view body{};                    // sent with Content-Length
  uint32_t timeout_ms = 0;                    // 0: the service's read timeout
};

// One async HTTP/1.1 call to a service of the config (sluice_host_api::http_call), e.g. to
// fetch JWKS; the worker loop never blocks. Its address is the call's user data, so it is
// neither copied nor moved: keep it in per-request or per-worker state. Destroying it cancels a
// call in flight (then the completion never runs). Thread: the worker the call was started on.
//
//   sluice::HttpRequest r{.service = "keys", .path = "/jwks.json"};
//   call_.Start<&Auth::OnKeys>(req.worker(), r, this);  // void OnKeys(sluice_status,
//   return sluice::Action::kPause;                       //   const sluice::HttpResponse*)
class HttpCall {
 public:
  // Runs once on the worker, unless cancelled, never inside Start: SLUICE_OK with the response,
  // or an error with nullptr (SLUICE_ERR_GONE: connect failure, connection lost or malformed
  // response; SLUICE_ERR_LIMIT: timeout, or a response over the host's limit). The HttpCall is
  // idle again (and may be destroyed or restarted) inside it. Exceptions are caught and logged.
  using Done = void (*)(void* owner, sluice_status result, const HttpResponse* response);

  HttpCall() = default;

  ~HttpCall() { Cancel(); }

  HttpCall(const HttpCall&) = delete;
  HttpCall& operator=(const HttpCall&) = delete;

  // Starts the call.
  // @return SLUICE_OK; SLUICE_ERR_NOT_FOUND for an unknown service; SLUICE_ERR_INVALID for a bad
  //         method, path or header, or while a call of this object is in flight;
  //         SLUICE_ERR_UNSUPPORTED on a host without http_call; as sluice_host_api::http_call.
  sluice_status Start(sluice_worker* worker, const HttpRequest& request, Done done,
                      void* owner) noexcept {
    if (!SLUICE_HOST_HAS(&Host(), http_call))
      return SLUICE_ERR_UNSUPPORTED;
    if (call_ != nullptr || done == nullptr || request.headers.size() > 32)
      return SLUICE_ERR_INVALID;
    sluice_header fields[32];
    size_t n = 0;
    for (const Headers::Field& f : request.headers)
      fields[n++] = sluice_header{Str(f.name), Str(f.value)};
    sluice_http_request r{};
    r.struct_size = sizeof r;
    r.timeout_ms = request.timeout_ms;
    r.service = Str(request.service);
    r.method = Str(request.method);
    r.path = Str(request.path);
    r.headers = n == 0 ? nullptr : fields;
    r.header_count = n;
    r.body = Str(request.body);
    done_ = done;
    owner_ = owner;
    return Host().http_call(worker, &r, &HttpCall::Complete, this, &call_);
  }

  // Starts the call with a member function as completion: (owner->*Method)(result, response).
  template <auto Method, typename Owner>
  sluice_status Start(sluice_worker* worker, const HttpRequest& request, Owner* owner) noexcept {
    return Start(
        worker, request,
        [](void* o, sluice_status result, const HttpResponse* response) {
          (static_cast<Owner*>(o)->*Method)(result, response);
        },
        owner);
  }

  // Cancels a call in flight (the completion will not run); a no-op when idle.
  void Cancel() noexcept {
    if (call_ != nullptr) {
      Host().http_call_cancel(call_);
      call_ = nullptr;
    }
  }

  bool active() const noexcept { return call_ != nullptr; }

 private:
  static void Complete(void* self, sluice_status result,
                       const sluice_http_response* response) noexcept {
    auto* c = static_cast<HttpCall*>(self);
    c->call_ = nullptr;  // the handle ends with this function; `c` may be destroyed in done
    const Done done = c->done_;
    void* owner = c->owner_;
    try {
      if (response != nullptr) {
        const HttpResponse view(*response);
        done(owner, result, &view);
      } else {
        done(owner, result, nullptr);
      }
    } catch (const std::exception& e) {
      Host().log(nullptr, SLUICE_LOG_ERROR, Str(e.what()));
    } catch (...) {
      Host().log(nullptr, SLUICE_LOG_ERROR, Str("http call completion threw"));
    }
  }

  sluice_http_call* call_ = nullptr;
  Done done_ = nullptr;
  void* owner_ = nullptr;
};

// Base class of a C++ filter: holds the config for the per-request object.
template <typename ConfigT>
class Filter {
 public:
  using Config = ConfigT;

  explicit Filter(const ConfigT& config) noexcept : config_(&config) {}

  const ConfigT& config() const noexcept { return *config_; }

 private:
  const ConfigT* config_;
};

namespace internal {

// The 500 every trampoline answers with when a hook throws (Kong's wording).
inline constexpr std::string_view kInternalErrorBody =
    R"({"message":"An unexpected error occurred"})";

inline void Fail(sluice_request* req, const char* what) noexcept {
  try {
    std::string msg = "filter failed: ";
    msg += what;
    Host().log(req, SLUICE_LOG_ERROR, Str(msg));
  } catch (...) {
    Host().log(req, SLUICE_LOG_ERROR, Str("filter failed"));
  }
  Request(req).SendJson(500, kInternalErrorBody);
}

template <typename F>
sluice_action Guard(sluice_request* req, F&& body) noexcept {
  try {
    return static_cast<sluice_action>(body());
  } catch (const std::exception& e) {
    Fail(req, e.what());
  } catch (...) {
    Fail(req, "unknown exception");
  }
  return SLUICE_ACTION_STOP;
}

template <typename D>
struct Trampolines {
  using Config = typename D::Config;

  static constexpr bool kRequestHeaders = requires(D d, Request& r) {
    { d.OnRequestHeaders(r) } -> std::same_as<Action>;
  };
  static constexpr bool kRequestBody = requires(D d, Request& r) {
    { d.OnRequestBody(r, true) } -> std::same_as<Action>;
  };
  static constexpr bool kResponseHeaders = requires(D d, Request& r) {
    { d.OnResponseHeaders(r) } -> std::same_as<Action>;
  };
  static constexpr bool kResponseBody = requires(D d, Request& r) {
    { d.OnResponseBody(r, true) } -> std::same_as<Action>;
  };
  static constexpr bool kLog = requires(D d, Request& r) { d.OnLog(r); };
  static constexpr bool kConfigWithContext = requires(std::string_view j, ConfigContext& c) {
    D::ParseConfig(j, c);
  };

  static void ReportConfigError(sluice_instance* inst, std::string_view message) noexcept {
    Host().config_error(inst, Str(message));
  }

  static sluice_status ConfigNew(sluice_instance* inst, sluice_str json, void** out) noexcept {
    try {
      ConfigContext ctx(inst);
      if constexpr (kConfigWithContext) {
        *out = new Config(D::ParseConfig(View(json), ctx));
      } else {
        *out = new Config(D::ParseConfig(View(json)));
      }
      return SLUICE_OK;
    } catch (const ConfigError& e) {
      ReportConfigError(inst, e.what());
    } catch (const std::exception& e) {
      try {
        ReportConfigError(inst, std::string("config: ") + e.what());
      } catch (...) {
        ReportConfigError(inst, "config: invalid");
      }
    } catch (...) {
      ReportConfigError(inst, "config: invalid");
    }
    return SLUICE_ERR_REJECTED;
  }

  static void ConfigDestroy(void* config) noexcept { delete static_cast<Config*>(config); }

  static sluice_status RequestNew(sluice_request* req, void* config, void*, void** out) noexcept {
    try {
      void* mem = Host().arena_alloc(req, sizeof(D), alignof(D));
      if (mem == nullptr)
        return SLUICE_ERR_NO_MEMORY;
      *out = new (mem) D(*static_cast<const Config*>(config));
      return SLUICE_OK;
    } catch (const std::exception& e) {
      Host().log(req, SLUICE_LOG_ERROR, Str(e.what()));
    } catch (...) {
      Host().log(req, SLUICE_LOG_ERROR, Str("filter constructor threw"));
    }
    return SLUICE_ERR_INTERNAL;
  }

  static void RequestDestroy(sluice_request*, void*, void* state) noexcept {
    // Destructors of per-request objects must not throw (they are noexcept by default).
    static_cast<D*>(state)->~D();
  }

  static sluice_action RequestHeaders(sluice_request* req, void*, void* st, bool eos) noexcept {
    return Guard(req, [&] {
      Request r(req, eos);
      return static_cast<D*>(st)->OnRequestHeaders(r);
    });
  }

  static sluice_action RequestBody(sluice_request* req, void*, void* st, bool eos) noexcept {
    return Guard(req, [&] {
      Request r(req, eos);
      return static_cast<D*>(st)->OnRequestBody(r, eos);
    });
  }

  static sluice_action ResponseHeaders(sluice_request* req, void*, void* st, bool eos) noexcept {
    return Guard(req, [&] {
      Request r(req, eos);
      return static_cast<D*>(st)->OnResponseHeaders(r);
    });
  }

  static sluice_action ResponseBody(sluice_request* req, void*, void* st, bool eos) noexcept {
    return Guard(req, [&] {
      Request r(req, eos);
      return static_cast<D*>(st)->OnResponseBody(r, eos);
    });
  }

  static void LogHook(sluice_request* req, void*, void* st) noexcept {
    try {
      Request r(req, true);
      static_cast<D*>(st)->OnLog(r);
    } catch (const std::exception& e) {
      Host().log(req, SLUICE_LOG_ERROR, Str(e.what()));
    } catch (...) {
      Host().log(req, SLUICE_LOG_ERROR, Str("on_log threw"));
    }
  }
};

template <typename D>
const sluice_filter_descriptor* Describe(const sluice_host_api* host, std::string_view name,
                                         int32_t priority, std::string_view version) noexcept {
  using T = Trampolines<D>;
  static_assert(std::is_base_of_v<Filter<typename D::Config>, D>,
                "a filter class derives from sluice::Filter<Config>");
  g_host = host;
  static const sluice_filter_descriptor desc = [&] {
    sluice_filter_descriptor d{};
    d.struct_size = sizeof d;
    d.abi_major = SLUICE_ABI_VERSION_MAJOR;
    d.abi_minor = SLUICE_ABI_VERSION_MINOR;
    d.name = Str(name);
    d.version = Str(version);
    d.priority = priority;
    d.capabilities = (T::kRequestBody ? SLUICE_CAP_REQUEST_BODY : 0) |
                     (T::kResponseBody ? SLUICE_CAP_RESPONSE_BODY : 0);
    d.on_config_new = &T::ConfigNew;
    d.on_config_destroy = &T::ConfigDestroy;
    d.on_request_new = &T::RequestNew;
    d.on_request_destroy = &T::RequestDestroy;
    if constexpr (T::kRequestHeaders)
      d.on_request_headers = &T::RequestHeaders;
    if constexpr (T::kRequestBody)
      d.on_request_body = &T::RequestBody;
    if constexpr (T::kResponseHeaders)
      d.on_response_headers = &T::ResponseHeaders;
    if constexpr (T::kResponseBody)
      d.on_response_body = &T::ResponseBody;
    if constexpr (T::kLog)
      d.on_log = &T::LogHook;
    return d;
  }();
  return &desc;
}

}  // namespace internal
}  // namespace sluice

// Exports `Class` as the module's filter. `name` is the plugin name (the .so's file name),
// `priority` its Kong priority (higher runs first), `version` a string literal for logs.
#define SLUICE_FILTER(Class, name, priority, version)                               \
  extern "C" SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1( \
      const sluice_host_api* host) {                                                \
    return ::sluice::internal::Describe<Class>(host, name, priority, version);      \
  }

// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/chain.h"

#include <algorithm>
#include <new>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "core/common/log.h"
#include "core/common/strings.h"

namespace sluice::filter_host {
namespace {

constexpr absl::string_view kInternalError = R"({"message":"An unexpected error occurred"})";
constexpr absl::string_view kTooLarge = R"({"message":"Request size limit exceeded"})";

absl::string_view View(sluice_str s) {
  return s.data == nullptr ? absl::string_view() : absl::string_view(s.data, s.len);
}

sluice_str Str(absl::string_view s) { return {s.data(), s.size()}; }

sluice_request* Handle(Slot* s) { return reinterpret_cast<sluice_request*>(s); }

// RFC 9110 token characters (header names).
bool ValidName(absl::string_view n) {
  if (n.empty())
    return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
    if (!ok)
      return false;
  }
  return true;
}

bool ValidValue(absl::string_view v) {
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0')
      return false;
  }
  return true;
}

bool ValidUriPart(absl::string_view v, bool path) {
  if (path && (v.empty() || v[0] != '/'))
    return false;
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '#' || (path && c == '?'))
      return false;
  }
  return true;
}

}  // namespace

void RequestChain::Begin(WorkerFilters& filters, int route, RequestView* view, ResumeFn on_resume,
                         void* owner) {
  End();
  filters_ = &filters;
  chains_ = &filters.chains();
  route_ = route;
  chain_ = &chains_->ForRoute(route);
  view_ = view;
  on_resume_ = on_resume;
  owner_ = owner;
}

bool RequestChain::OnWorker() const {
  return filters_ != nullptr && WorkerHost::Current() == &filters_->worker();
}

void RequestChain::End() {
  if (filters_ == nullptr)
    return;
  phase_ = Phase::kLog;
  for (Slot* s : slots_) {
    if (s->created && s->instance->module->desc.on_request_destroy != nullptr) {
      in_hook_ = s;
      s->instance->module->desc.on_request_destroy(Handle(s), s->instance->config, s->state);
      in_hook_ = nullptr;
    }
    delete s->buffer;
  }
  slots_.clear();
  while (refs_ != nullptr) {
    RequestRef* r = refs_;
    refs_ = r->next;
    r->chain = nullptr;
    r->slot = nullptr;
    r->Unref();
  }
  filters_ = nullptr;
  chains_ = nullptr;
  chain_ = nullptr;
  view_ = nullptr;
  on_resume_ = nullptr;
  owner_ = nullptr;
  route_ = -1;
  consumer_ = -1;
  credential_ = {};
  phase_ = Phase::kIdle;
  pos_ = 0;
  end_of_stream_ = false;
  in_hook_ = nullptr;
  paused_ = nullptr;
  resume_in_hook_ = false;
  request_head_done_ = false;
  response_head_done_ = false;
  deferred_ = false;
  body_current_ = {};
  body_output_ = {};
  replied_ = false;
  reply_status_ = 0;
  reply_headers_.clear();
  reply_body_.clear();
  upstream_path_.reset();
  upstream_query_.reset();
  upstream_method_.reset();
  arena_.Reset();
}

Slot* RequestChain::SlotFor(const Instance* in) {
  for (Slot* s : slots_) {
    if (s->instance == in)
      return s;
  }
  void* mem = arena_.Allocate(sizeof(Slot), alignof(Slot));
  if (mem == nullptr)
    return nullptr;
  Slot* s = new (mem) Slot();
  s->chain = this;
  s->instance = in;
  slots_.push_back(s);
  if (filters_->failed(*in)) {
    s->failed = true;
  } else if (in->module->desc.on_request_new != nullptr) {
    Slot* outer = in_hook_;
    in_hook_ = s;
    sluice_status st =
        in->module->desc.on_request_new(Handle(s), in->config, filters_->state(*in), &s->state);
    in_hook_ = outer;
    if (st == SLUICE_OK) {
      s->created = true;
    } else {
      s->failed = true;
      s->state = nullptr;
      log::Error("filter %s: on_request_new failed (status %d)", in->name, st);
    }
  }
  return s;
}

size_t RequestChain::PositionAfter(const Instance* in) const {
  const auto& f = chain_->filters;
  if (pos_ < f.size() && f[pos_] == in)
    return pos_ + 1;
  // The chain changed under us (consumer_set): continue with the first filter that sorts after
  // the one that just ran.
  size_t i = 0;
  while (i < f.size() && !RunsBefore(*in, *f[i]))
    ++i;
  return i;
}

Flow RequestChain::ReplyFromFailure(const Instance* in, const char* why) {
  log::Error("filter %s: %s", in->name, why);
  if (!replied_) {
    replied_ = true;
    reply_status_ = 500;
    reply_headers_.clear();
    reply_headers_.emplace_back("Content-Type", "application/json; charset=utf-8");
    reply_body_.assign(kInternalError.data(), kInternalError.size());
  }
  return Flow::kLocalReply;
}

Flow RequestChain::RunRequestHeaders(bool end_of_stream) {
  phase_ = Phase::kRequestHeaders;
  end_of_stream_ = end_of_stream;
  pos_ = 0;
  return RunHeaders(true);
}

Flow RequestChain::RunResponseHeaders(bool end_of_stream) {
  phase_ = Phase::kResponseHeaders;
  end_of_stream_ = end_of_stream;
  response_head_done_ = false;
  pos_ = 0;
  return RunHeaders(false);
}

Flow RequestChain::RunHeaders(bool request) {
  while (pos_ < chain_->filters.size()) {
    const Instance* in = chain_->filters[pos_];
    const sluice_filter_descriptor& d = in->module->desc;
    auto hook = request ? d.on_request_headers : d.on_response_headers;
    if (hook == nullptr) {
      pos_ = PositionAfter(in);
      continue;
    }
    Slot* s = SlotFor(in);
    if (s == nullptr || s->failed) {
      if (s == nullptr || request) {
        phase_ = Phase::kIdle;
        return ReplyFromFailure(in, "could not start");
      }
      pos_ = PositionAfter(in);
      continue;
    }
    in_hook_ = s;
    resume_in_hook_ = false;
    new_reply_ = false;
    sluice_action a = hook(Handle(s), in->config, s->state, end_of_stream_);
    in_hook_ = nullptr;
    // Only a reply sent by this hook ends the phase: the response hooks that run over an
    // earlier local reply must all run.
    if (new_reply_) {
      phase_ = Phase::kIdle;
      return Flow::kLocalReply;
    }
    if (a == SLUICE_ACTION_PAUSE && resume_in_hook_)
      a = SLUICE_ACTION_CONTINUE;
    switch (a) {
      case SLUICE_ACTION_CONTINUE:
        pos_ = PositionAfter(in);
        break;
      case SLUICE_ACTION_PAUSE:
        paused_ = s;
        return Flow::kPause;
      case SLUICE_ACTION_STOP:
        phase_ = Phase::kIdle;
        return ReplyFromFailure(in, "returned stop without a local reply");
      default:
        phase_ = Phase::kIdle;
        return ReplyFromFailure(in, "returned an invalid action from a headers hook");
    }
  }
  if (request) {
    request_head_done_ = true;
  } else {
    response_head_done_ = true;
  }
  phase_ = Phase::kIdle;
  return Flow::kContinue;
}

Flow RequestChain::RunRequestBody(absl::string_view chunk, bool end_of_stream) {
  phase_ = Phase::kRequestBody;
  end_of_stream_ = end_of_stream;
  pos_ = 0;
  body_current_ = chunk;
  body_output_ = {};
  return RunBody(true);
}

Flow RequestChain::RunResponseBody(absl::string_view chunk, bool end_of_stream) {
  phase_ = Phase::kResponseBody;
  end_of_stream_ = end_of_stream;
  pos_ = 0;
  body_current_ = chunk;
  body_output_ = {};
  return RunBody(false);
}

Flow RequestChain::RunBody(bool request) {
  const uint64_t cap = request ? SLUICE_CAP_REQUEST_BODY : SLUICE_CAP_RESPONSE_BODY;
  auto fail = [&](const Instance* in, const char* why) {
    phase_ = Phase::kIdle;
    if (request)
      return ReplyFromFailure(in, why);
    log::Error("filter %s: %s", in->name, why);
    return Flow::kReset;
  };
  while (pos_ < chain_->filters.size()) {
    const Instance* in = chain_->filters[pos_];
    const sluice_filter_descriptor& d = in->module->desc;
    if ((d.capabilities & cap) == 0) {
      pos_ = PositionAfter(in);
      continue;
    }
    Slot* s = SlotFor(in);
    if (s == nullptr || s->failed) {
      if (s == nullptr || request)
        return fail(in, "could not start");
      pos_ = PositionAfter(in);
      continue;
    }
    if (s->buffering) {
      s->buffer->append(body_current_.data(), body_current_.size());
      body_current_ = *s->buffer;
    }
    in_hook_ = s;
    resume_in_hook_ = false;
    new_reply_ = false;
    auto hook = request ? d.on_request_body : d.on_response_body;
    sluice_action a = hook(Handle(s), in->config, s->state, end_of_stream_);
    in_hook_ = nullptr;
    if (new_reply_ && request) {
      phase_ = Phase::kIdle;
      return Flow::kLocalReply;
    }
    if (a == SLUICE_ACTION_PAUSE && resume_in_hook_)
      a = SLUICE_ACTION_CONTINUE;
    if (a == SLUICE_ACTION_BUFFER && end_of_stream_)
      a = SLUICE_ACTION_CONTINUE;
    switch (a) {
      case SLUICE_ACTION_CONTINUE:
        s->buffering = false;
        pos_ = PositionAfter(in);
        break;
      case SLUICE_ACTION_BUFFER:
        if (!s->buffering) {
          if (s->buffer == nullptr)
            s->buffer = new std::string;
          if (body_current_.data() != s->buffer->data()) {
            s->buffer->assign(body_current_.data(), body_current_.size());
          }
          s->buffering = true;
        }
        if (s->buffer->size() > kMaxBufferedBody) {
          phase_ = Phase::kIdle;
          if (!request)
            return fail(in, "response body over the buffer limit");
          replied_ = true;
          reply_status_ = 413;
          reply_headers_.clear();
          reply_headers_.emplace_back("Content-Type", "application/json; charset=utf-8");
          reply_body_.assign(kTooLarge.data(), kTooLarge.size());
          return Flow::kLocalReply;
        }
        body_output_ = {};
        phase_ = Phase::kIdle;
        return Flow::kContinue;
      case SLUICE_ACTION_PAUSE:
        if (s->buffer == nullptr)
          s->buffer = new std::string;
        if (body_current_.data() != s->buffer->data()) {
          s->buffer->assign(body_current_.data(), body_current_.size());
          body_current_ = *s->buffer;
        }
        paused_ = s;
        return Flow::kPause;
      case SLUICE_ACTION_STOP:
        return fail(in, request ? "returned stop without a local reply" : "stopped the response");
      default:
        return fail(in, "returned an invalid action from a body hook");
    }
  }
  body_output_ = body_current_;
  phase_ = Phase::kIdle;
  return Flow::kContinue;
}

void RequestChain::RunLog() {
  if (chain_ == nullptr)
    return;
  phase_ = Phase::kLog;
  for (const Instance* in : chain_->filters) {
    if (in->module->desc.on_log == nullptr)
      continue;
    Slot* s = SlotFor(in);
    if (s == nullptr || s->failed)
      continue;
    in_hook_ = s;
    in->module->desc.on_log(Handle(s), in->config, s->state);
    in_hook_ = nullptr;
  }
}

void RequestChain::HostReply(int status, absl::string_view content_type, absl::string_view body) {
  phase_ = Phase::kIdle;
  paused_ = nullptr;
  replied_ = true;
  reply_status_ = status;
  reply_headers_.clear();
  reply_headers_.emplace_back("Content-Type", std::string(content_type));
  reply_body_.assign(body.data(), body.size());
}

void RequestChain::LoadLocalReply(http::HeaderMap* headers) const {
  headers->Clear();
  for (const auto& [name, value] : reply_headers_)
    headers->Add(name, value);
}

void RequestChain::Defer(Flow flow) {
  deferred_ = true;
  deferred_flow_ = flow;
  auto* ref = new RequestRef;
  ref->refs.store(2);  // the chain's list and the task
  ref->mailbox_owner = filters_->worker().mailbox();
  ref->mailbox = ref->mailbox_owner.get();
  ref->chain = this;
  ref->next = refs_;
  refs_ = ref;
  if (!ref->mailbox->Post({Mailbox::Kind::kDeferred, ref, nullptr, nullptr}))
    ref->Unref();
}

void RequestChain::RunDeferred() {
  if (!deferred_)
    return;
  deferred_ = false;
  Slot* s = paused_;
  paused_ = nullptr;
  Flow flow = deferred_flow_;
  if (flow == Flow::kContinue && s != nullptr) {
    Phase phase = phase_;
    pos_ = PositionAfter(s->instance);
    switch (phase) {
      case Phase::kRequestHeaders:
        flow = RunHeaders(true);
        break;
      case Phase::kResponseHeaders:
        flow = RunHeaders(false);
        break;
      case Phase::kRequestBody:
        flow = RunBody(true);
        break;
      default:
        flow = Flow::kContinue;
        break;
    }
  } else {
    phase_ = Phase::kIdle;
  }
  // The proxy's callback may End() this request; touch nothing afterwards.
  if (on_resume_ != nullptr)
    on_resume_(owner_, flow);
}

void RequestChain::ResumeFromRef(Slot* s) {
  if (paused_ != s || deferred_)
    return;
  deferred_ = true;
  deferred_flow_ = Flow::kContinue;
  RunDeferred();
}

// --- host callbacks ---

void RequestChain::Log(Slot* s, sluice_log_level level, absl::string_view message) {
  std::string line = absl::StrCat("filter ", s->instance->name, ": ");
  if (view_ != nullptr && !view_->request_id.empty()) {
    absl::StrAppend(&line, "[", view_->request_id, "] ");
  }
  line.append(message.data(), message.size());
  log::Write(static_cast<log::Level>(level), line);
}

sluice_status RequestChain::Info(Slot* s, sluice_info id, sluice_str* out) {
  if (out == nullptr || id >= 100)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  (void)s;
  const RequestView& v = *view_;
  absl::string_view r;
  switch (id) {
    case SLUICE_INFO_METHOD:
      r = v.method;
      break;
    case SLUICE_INFO_PATH:
      r = v.path;
      break;
    case SLUICE_INFO_QUERY:
      r = v.query;
      break;
    case SLUICE_INFO_HOST:
      r = v.host;
      break;
    case SLUICE_INFO_SCHEME:
      r = v.scheme;
      break;
    case SLUICE_INFO_CLIENT_ADDRESS:
      r = v.client_address;
      break;
    case SLUICE_INFO_TARGET:
      r = v.target;
      break;
    case SLUICE_INFO_ROUTE_ID:
      if (v.route == nullptr)
        return SLUICE_ERR_NOT_FOUND;
      r = v.route->id;
      break;
    case SLUICE_INFO_ROUTE_NAME:
      if (v.route == nullptr || v.route->name.empty())
        return SLUICE_ERR_NOT_FOUND;
      r = v.route->name;
      break;
    case SLUICE_INFO_SERVICE_ID:
      if (v.service == nullptr)
        return SLUICE_ERR_NOT_FOUND;
      r = v.service->id;
      break;
    case SLUICE_INFO_SERVICE_NAME:
      if (v.service == nullptr || v.service->name.empty())
        return SLUICE_ERR_NOT_FOUND;
      r = v.service->name;
      break;
    case SLUICE_INFO_CONSUMER_ID:
    case SLUICE_INFO_CONSUMER_USERNAME:
    case SLUICE_INFO_CONSUMER_CUSTOM_ID: {
      if (consumer_ < 0)
        return SLUICE_ERR_NOT_FOUND;
      const ConsumerInfo& c = chains_->consumer(consumer_);
      r = id == SLUICE_INFO_CONSUMER_ID         ? c.id
          : id == SLUICE_INFO_CONSUMER_USERNAME ? c.username
                                                : c.custom_id;
      if (r.empty())
        return SLUICE_ERR_NOT_FOUND;
      break;
    }
    case SLUICE_INFO_CREDENTIAL_ID:
      if (credential_.empty())
        return SLUICE_ERR_NOT_FOUND;
      r = credential_;
      break;
    case SLUICE_INFO_REQUEST_ID:
      if (v.request_id.empty())
        return SLUICE_ERR_NOT_FOUND;
      r = v.request_id;
      break;
    default:
      return SLUICE_ERR_NOT_FOUND;
  }
  *out = Str(r);
  return SLUICE_OK;
}

sluice_status RequestChain::InfoInt(Slot*, sluice_info id, int64_t* out) {
  if (out == nullptr || id < 100)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  switch (id) {
    case SLUICE_INFO_CLIENT_PORT:
      *out = view_->client_port;
      return SLUICE_OK;
    case SLUICE_INFO_RESPONSE_STATUS:
      if (view_->response_status == 0)
        return SLUICE_ERR_NOT_FOUND;
      *out = view_->response_status;
      return SLUICE_OK;
    case SLUICE_INFO_START_TIME_MS:
      *out = view_->start_time_ms;
      return SLUICE_OK;
    case SLUICE_INFO_WORKER_INDEX:
      *out = filters_->worker().index();
      return SLUICE_OK;
    case SLUICE_INFO_REQUEST_BYTES:
      *out = view_->request_bytes;
      return SLUICE_OK;
    case SLUICE_INFO_RESPONSE_BYTES:
      *out = view_->response_bytes;
      return SLUICE_OK;
    case SLUICE_INFO_UPSTREAM_LATENCY_MS:
    case SLUICE_INFO_PROXY_LATENCY_MS:
    case SLUICE_INFO_REQUEST_LATENCY_MS: {
      int64_t v = id == SLUICE_INFO_UPSTREAM_LATENCY_MS ? view_->upstream_latency_ms
                  : id == SLUICE_INFO_PROXY_LATENCY_MS  ? view_->proxy_latency_ms
                                                        : view_->request_latency_ms;
      if (v < 0)
        return SLUICE_ERR_NOT_FOUND;
      *out = v;
      return SLUICE_OK;
    }
    default:
      return SLUICE_ERR_NOT_FOUND;
  }
}

http::HeaderMap* RequestChain::Map(sluice_header_map map, sluice_status* err) const {
  http::HeaderMap* m = nullptr;
  if (map == SLUICE_MAP_REQUEST) {
    m = view_->request_headers;
  } else if (map == SLUICE_MAP_RESPONSE) {
    m = view_->response_headers;
  } else {
    *err = SLUICE_ERR_INVALID;
    return nullptr;
  }
  if (m == nullptr)
    *err = SLUICE_ERR_WRONG_PHASE;
  return m;
}

sluice_status RequestChain::HeaderGet(Slot*, sluice_header_map map, sluice_str name, size_t index,
                                      sluice_str* out) {
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  sluice_status err = SLUICE_OK;
  http::HeaderMap* m = Map(map, &err);
  if (m == nullptr)
    return err;
  absl::string_view n = View(name);
  for (const http::HeaderField& f : *m) {
    if (IEquals(f.name, n) && index-- == 0) {
      *out = Str(f.value);
      return SLUICE_OK;
    }
  }
  return SLUICE_ERR_NOT_FOUND;
}

sluice_status RequestChain::HeaderCount(Slot*, sluice_header_map map, size_t* out) {
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  sluice_status err = SLUICE_OK;
  http::HeaderMap* m = Map(map, &err);
  if (m == nullptr)
    return err;
  *out = m->size();
  return SLUICE_OK;
}

sluice_status RequestChain::HeaderAt(Slot*, sluice_header_map map, size_t index,
                                     sluice_header* out) {
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  sluice_status err = SLUICE_OK;
  http::HeaderMap* m = Map(map, &err);
  if (m == nullptr)
    return err;
  if (index >= m->size())
    return SLUICE_ERR_NOT_FOUND;
  const http::HeaderField& f = (*m)[index];
  *out = {Str(f.name), Str(f.value)};
  return SLUICE_OK;
}

bool RequestChain::MapWritable(sluice_header_map map) const {
  if (map == SLUICE_MAP_REQUEST)
    return phase_ == Phase::kRequestHeaders && !request_head_done_;
  return phase_ == Phase::kResponseHeaders && !response_head_done_;
}

sluice_status RequestChain::HeaderWrite(Slot* s, sluice_header_map map, sluice_str name,
                                        sluice_str value, int op) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  sluice_status err = SLUICE_OK;
  http::HeaderMap* m = Map(map, &err);
  if (m == nullptr)
    return err;
  if (!MapWritable(map) || (in_hook_ != s && paused_ != s))
    return SLUICE_ERR_WRONG_PHASE;
  absl::string_view n = View(name);
  absl::string_view v = View(value);
  if (!ValidName(n) || !ValidValue(v))
    return SLUICE_ERR_INVALID;
  if (op != 1) {
    absl::InlinedVector<http::HeaderField, 24> kept;
    for (const http::HeaderField& f : *m) {
      if (!IEquals(f.name, n))
        kept.push_back(f);
    }
    if (kept.size() != m->size()) {
      m->Clear();
      for (const http::HeaderField& f : kept)
        m->Add(f.name, f.value);
    }
  }
  if (op == 2)
    return SLUICE_OK;
  absl::string_view n2 = arena_.Copy(n);
  absl::string_view v2 = arena_.Copy(v);
  if (n2.empty() || (v2.empty() && !v.empty()))
    return SLUICE_ERR_NO_MEMORY;
  m->Add(n2, v2);
  return SLUICE_OK;
}

sluice_status RequestChain::UpstreamSet(Slot* s, sluice_str value, bool path) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (!MapWritable(SLUICE_MAP_REQUEST) || (in_hook_ != s && paused_ != s)) {
    return SLUICE_ERR_WRONG_PHASE;
  }
  absl::string_view v = View(value);
  if (!ValidUriPart(v, path))
    return SLUICE_ERR_INVALID;
  absl::string_view copy = arena_.Copy(v);
  if (copy.size() != v.size())
    return SLUICE_ERR_NO_MEMORY;
  (path ? upstream_path_ : upstream_query_) = copy;
  return SLUICE_OK;
}

sluice_status RequestChain::UpstreamMethodSet(Slot* s, sluice_str method) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (!MapWritable(SLUICE_MAP_REQUEST) || (in_hook_ != s && paused_ != s)) {
    return SLUICE_ERR_WRONG_PHASE;
  }
  absl::string_view m = View(method);
  // RFC 9110 token characters.
  auto tchar = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
  };
  // HEAD is refused: its response has no body, which the client's method did not ask for.
  if (m.empty() || m.size() > 32 || !std::all_of(m.begin(), m.end(), tchar) || m == "HEAD")
    return SLUICE_ERR_INVALID;
  absl::string_view copy = arena_.Copy(m);
  if (copy.size() != m.size())
    return SLUICE_ERR_NO_MEMORY;
  upstream_method_ = copy;
  return SLUICE_OK;
}

sluice_status RequestChain::UriCapture(Slot*, sluice_str name, sluice_str* out) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  const router::MatchResult* m = view_ != nullptr ? view_->match : nullptr;
  if (m == nullptr)
    return SLUICE_ERR_NOT_FOUND;
  absl::string_view n = View(name);
  absl::string_view value;
  bool found = false;
  size_t index = 0;
  if (n == "0") {
    value = m->matched_prefix;
    found = true;
  } else if (absl::SimpleAtoi(n, &index)) {
    found = index >= 1 && index <= m->captures.size();
    if (found)
      value = m->captures[index - 1].value;
  } else {
    for (const router::Capture& c : m->captures) {
      if (!c.name.empty() && c.name == n) {
        value = c.value;
        found = true;
        break;
      }
    }
  }
  if (!found)
    return SLUICE_ERR_NOT_FOUND;
  *out = sluice_str{value.data(), value.size()};
  return SLUICE_OK;
}

sluice_status RequestChain::BodyGet(Slot* s, sluice_str* out) {
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  bool body = phase_ == Phase::kRequestBody || phase_ == Phase::kResponseBody;
  if (!body || in_hook_ != s)
    return SLUICE_ERR_WRONG_PHASE;
  *out = Str(body_current_);
  return SLUICE_OK;
}

sluice_status RequestChain::BodyReplace(Slot* s, sluice_str data) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  bool body = phase_ == Phase::kRequestBody || phase_ == Phase::kResponseBody;
  if (!body || in_hook_ != s)
    return SLUICE_ERR_WRONG_PHASE;
  if (data.len > kMaxBufferedBody)
    return SLUICE_ERR_LIMIT;
  // `data` may be a view of the buffer it replaces, so build the new bytes apart first.
  absl::string_view d = View(data);
  std::string fresh(d.data(), d.size());
  if (s->buffer == nullptr)
    s->buffer = new std::string;
  s->buffer->swap(fresh);
  body_current_ = *s->buffer;
  return SLUICE_OK;
}

sluice_status RequestChain::LocalReply(Slot* s, int32_t status, const sluice_header* headers,
                                       size_t n, sluice_str body) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (status < 100 || status > 599 || (n > 0 && headers == nullptr))
    return SLUICE_ERR_INVALID;
  bool in_phase = (phase_ == Phase::kRequestHeaders && !request_head_done_) ||
                  phase_ == Phase::kRequestBody ||
                  (phase_ == Phase::kResponseHeaders && !response_head_done_);
  bool paused = paused_ == s && !deferred_;
  if (replied_ || !((in_hook_ == s && in_phase) || paused))
    return SLUICE_ERR_WRONG_PHASE;
  for (size_t i = 0; i < n; ++i) {
    if (!ValidName(View(headers[i].name)) || !ValidValue(View(headers[i].value))) {
      return SLUICE_ERR_INVALID;
    }
  }
  replied_ = true;
  new_reply_ = true;
  reply_status_ = status;
  reply_headers_.clear();
  for (size_t i = 0; i < n; ++i) {
    absl::string_view hn = View(headers[i].name), hv = View(headers[i].value);
    reply_headers_.emplace_back(std::string(hn.data(), hn.size()),
                                std::string(hv.data(), hv.size()));
  }
  absl::string_view b = View(body);
  reply_body_.assign(b.data(), b.size());
  if (in_hook_ != s)
    Defer(Flow::kLocalReply);
  return SLUICE_OK;
}

sluice_status RequestChain::SetConsumer(Slot* s, sluice_str key) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (!MapWritable(SLUICE_MAP_REQUEST) || (in_hook_ != s && paused_ != s)) {
    return SLUICE_ERR_WRONG_PHASE;
  }
  int c = chains_->FindConsumer(View(key));
  if (c < 0)
    return SLUICE_ERR_NOT_FOUND;
  consumer_ = c;
  // The filters after the caller now come from the consumer's chain (Kong resolves each
  // plugin's config as the access phase reaches it); PositionAfter finds the caller's place.
  if (chain_->consumer_scoped)
    chain_ = &chains_->ForConsumer(route_, c);
  return SLUICE_OK;
}

sluice_status RequestChain::SetCredential(Slot* s, sluice_str credential) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  if (!MapWritable(SLUICE_MAP_REQUEST) || (in_hook_ != s && paused_ != s)) {
    return SLUICE_ERR_WRONG_PHASE;
  }
  credential_ = arena_.Copy(View(credential));
  return SLUICE_OK;
}

sluice_status RequestChain::Resume(Slot* s) {
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  bool pausable = phase_ == Phase::kRequestHeaders || phase_ == Phase::kRequestBody ||
                  phase_ == Phase::kResponseHeaders;
  if (in_hook_ == s && pausable) {
    resume_in_hook_ = true;
    return SLUICE_OK;
  }
  if (paused_ != s || deferred_)
    return SLUICE_ERR_WRONG_PHASE;
  Defer(Flow::kContinue);
  return SLUICE_OK;
}

sluice_status RequestChain::NewRef(Slot* s, sluice_request_ref** out) {
  if (out == nullptr)
    return SLUICE_ERR_INVALID;
  if (!OnWorker())
    return SLUICE_ERR_WRONG_THREAD;
  auto* ref = new (std::nothrow) RequestRef;
  if (ref == nullptr)
    return SLUICE_ERR_NO_MEMORY;
  ref->refs.store(2);  // the filter's and the chain's list
  ref->mailbox_owner = filters_->worker().mailbox();
  ref->mailbox = ref->mailbox_owner.get();
  ref->chain = this;
  ref->slot = s;
  ref->next = refs_;
  refs_ = ref;
  *out = reinterpret_cast<sluice_request_ref*>(ref);
  return SLUICE_OK;
}

}  // namespace sluice::filter_host

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/health_checker.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "core/balancer/dns.h"
#include "core/common/log.h"

namespace sluice::balancer {

namespace {
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();
}  // namespace

// One target of one upstream under watch.
struct HealthChecker::Entry {
  HealthChecker* checker = nullptr;
  const Upstream* up = nullptr;
  size_t up_index = 0;  // in set_, for probing_
  size_t index = 0;
  std::string request;          // empty: TCP connect probe
  std::optional<ProbeTls> tls;  // https, grpcs
  uint64_t next_probe = kNever;
  uint64_t next_dns = kNever;
  Probe* probe = nullptr;
  uint32_t next_address = 0;  // a multi-address target has its addresses probed in turn
  uint32_t probed_address = 0;
  net::Resolver::Lookup* lookup = nullptr;
  bool resolving = false;
};

HealthChecker::HealthChecker(uv_loop_t* loop, CheckerOptions opts)
    : loop_(loop), opts_(std::move(opts)) {
  auto* t = new uv_timer_t;
  uv_timer_init(loop_, t);
  t->data = this;
  timer_.reset(t);
  auto resolver = net::Resolver::Create(loop_, opts_.resolver);
  if (resolver.ok()) {
    resolver_ = std::move(resolver).value();
  } else {
    log::Error("health checker: %s; hostname targets will not be refreshed",
               resolver.status().message());
  }
}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Stop() {
  if (stopped_)
    return;
  stopped_ = true;
  ClearEntries();
  resolver_.reset();
  timer_.reset();
  set_.reset();
}

void HealthChecker::ClearEntries() {
  for (auto& e : entries_) {
    if (e->probe != nullptr)
      e->probe->Cancel();  // no callback: probing_ is reset below
    if (e->lookup != nullptr)
      net::Resolver::Cancel(e->lookup);
  }
  entries_.clear();
  probing_.clear();
}

void HealthChecker::Update(std::shared_ptr<const Set> set) {
  if (stopped_)
    return;
  ClearEntries();
  set_ = std::move(set);
  const uint64_t now = uv_now(loop_);
  if (set_ != nullptr) {
    for (size_t u = 0; u < set_->size(); ++u) {
      const Upstream& up = set_->at(u);
      const HealthPolicy& p = up.policy();
      const bool tls = p.type == "https" || p.type == "grpcs";
      const bool http = p.type == "http" || p.type == "https";
      if (p.active_on && !http && p.type != "tcp") {
        // The gRPC health protocol needs HTTP/2, which the prober does not speak: grpc gets a
        // TCP connect, grpcs a TLS handshake with the certificate checks.
        log::Warn("upstream %s: active healthchecks of type %s are probed with a %s only",
                  up.name(), p.type, tls ? "TLS handshake" : "TCP connect");
      }
      if (p.active_on && tls && tls_ctx_ == nullptr) {
        auto ctx = NewProbeTlsContext();
        if (ctx.ok()) {
          tls_ctx_ = std::move(ctx).value();
        } else {
          log::Error("upstream %s: %s", up.name(), ctx.status().message());
        }
      }
      for (size_t i = 0; i < up.size(); ++i) {
        auto e = std::make_unique<Entry>();
        e->checker = this;
        e->up = &up;
        e->up_index = u;
        e->index = i;
        const TargetInfo& t = up.target(i);
        if (p.active_on) {
          e->next_probe = now;
          if (http) {
            const int default_port = tls ? 443 : 80;
            const std::string host =
                t.port == default_port ? t.host : absl::StrCat(t.host, ":", t.port);
            e->request = absl::StrCat("GET ", p.http_path, " HTTP/1.0\r\nHost: ", host,
                                      "\r\nUser-Agent: sluice-healthcheck\r\n");
            for (const auto& [name, value] : p.headers)
              absl::StrAppend(&e->request, name, ": ", value, "\r\n");
            e->request.append("Connection: close\r\n\r\n");
          }
          if (tls) {
            // Kong: SNI is https_sni, else the target's host name; an IP literal sends none.
            // The certificate must match the SNI name, or the IP when there is none.
            ProbeTls& pt = e->tls.emplace();
            pt.ctx = tls_ctx_.get();
            pt.sni = !p.https_sni.empty() ? p.https_sni : t.numeric ? std::string() : t.host;
            absl::string_view ip = t.host;
            if (absl::ConsumePrefix(&ip, "[") && !absl::ConsumeSuffix(&ip, "]"))
              ip = t.host;
            pt.verify_name = !pt.sni.empty() ? pt.sni : std::string(ip);
            pt.verify = p.https_verify_certificate;
          }
        }
        if (!t.numeric && resolver_ != nullptr) {
          // Unresolved targets are looked up at once; resolved ones when their records expire.
          const uint64_t expires = t.state->dns_expires_ms.load(std::memory_order_relaxed);
          const uint64_t mono = MonotonicMs();
          e->next_dns = !t.state->address.has_value() ? now
                        : expires > mono              ? now + (expires - mono)
                                                      : now;
        }
        entries_.push_back(std::move(e));
      }
    }
  }
  probing_.assign(set_ != nullptr ? set_->size() : 0, 0);
  Schedule();
}

bool HealthChecker::MayProbe(const Entry& e) const {
  return probing_[e.up_index] < e.up->policy().concurrency;
}

void HealthChecker::Schedule() {
  if (stopped_)
    return;
  uint64_t next = kNever;
  for (const auto& e : entries_) {
    // A probe held back by its upstream's concurrency waits for one to finish, which
    // schedules again.
    if (e->probe == nullptr && MayProbe(*e))
      next = std::min(next, e->next_probe);
    if (!e->resolving)
      next = std::min(next, e->next_dns);
  }
  if (next == kNever) {
    uv_timer_stop(timer_.get());
    return;
  }
  const uint64_t now = uv_now(loop_);
  uv_timer_start(
      timer_.get(), [](uv_timer_t* t) { static_cast<HealthChecker*>(t->data)->Tick(); },
      next > now ? next - now : 0, 0);
}

void HealthChecker::Tick() {
  const uint64_t now = uv_now(loop_);
  for (auto& e : entries_) {
    if (e->probe == nullptr && e->next_probe <= now && MayProbe(*e))
      StartProbe(*e, now);
    if (!e->resolving && e->next_dns <= now)
      StartDns(*e);
  }
  Schedule();
}

void HealthChecker::StartProbe(Entry& e, uint64_t now) {
  const HealthPolicy& p = e.up->policy();
  TargetState& s = e.up->state(e.index);
  const uint64_t interval = s.health.healthy() ? p.healthy_interval_ms : p.unhealthy_interval_ms;
  if (interval == 0) {
    // Kong does not probe a target in a state whose interval is 0; look again later in case
    // passive checks move it into a probed state.
    e.next_probe = now + std::max(p.healthy_interval_ms, p.unhealthy_interval_ms);
    return;
  }
  e.next_probe = kNever;  // set again when the probe ends
  net::Address addr;
  const size_t n = s.address.count();
  e.probed_address = n > 1 ? static_cast<uint32_t>(e.next_address++ % n) : 0;
  if (!s.address.Load(&addr, e.probed_address)) {
    e.next_probe = now + interval;  // nothing to probe until DNS succeeds
    return;
  }
  int err = 0;
  e.probe = Probe::Start(loop_, addr, e.request, e.tls ? &*e.tls : nullptr, p.timeout_ms,
                         OnProbeDone, &e, &err);
  ++probing_[e.up_index];
  if (e.probe == nullptr)
    OnProbeDone(&e, {HealthEvent::kTcpFailure, 0, err});
}

void HealthChecker::OnProbeDone(void* owner, const ProbeResult& r) {
  auto& e = *static_cast<Entry*>(owner);
  e.probe = nullptr;
  --e.checker->probing_[e.up_index];
  const HealthPolicy& p = e.up->policy();
  HealthEvent ev = r.event;
  bool counts = true;
  if (r.event == HealthEvent::kSuccess && r.status != 0)
    counts = p.active.Classify(r.status, &ev);
  if (counts && !e.checker->AddressVerdict(e, ev == HealthEvent::kSuccess))
    counts = false;
  if (counts)
    e.up->RecordActive(e.index, ev, r.status != 0 ? r.status : r.error);
  const bool healthy = e.up->state(e.index).health.healthy();
  uint64_t interval = healthy ? p.healthy_interval_ms : p.unhealthy_interval_ms;
  if (interval == 0)
    interval = std::max(p.healthy_interval_ms, p.unhealthy_interval_ms);
  e.next_probe = uv_now(e.checker->loop_) + interval;
  e.checker->Schedule();
}

// Kong: a target is healthy while any of its addresses is. So with several addresses, a
// failed probe takes that address out of the rotation (until one of its probes passes) and
// counts against the target only when no other address is left in it.
bool HealthChecker::AddressVerdict(Entry& e, bool passed) {
  AddressCell& cell = e.up->state(e.index).address;
  const size_t n = cell.count();
  if (n < 2)
    return true;
  cell.Eject(e.probed_address, passed ? 0 : std::numeric_limits<uint64_t>::max());
  if (passed)
    return true;
  const uint64_t now = uv_now(loop_);
  for (size_t k = 0; k < n; ++k) {
    if (!cell.Ejected(k, now))
      return false;
  }
  return true;
}

void HealthChecker::StartDns(Entry& e) {
  const TargetInfo& t = e.up->target(e.index);
  e.next_dns = kNever;
  e.resolving = true;
  // An /etc/hosts answer completes inside Resolve, which then returns nullptr.
  e.lookup = resolver_->Resolve(t.host, t.port, OnDnsDone, &e);
}

void HealthChecker::OnDnsDone(void* owner, const net::Resolution& r) {
  auto& e = *static_cast<Entry*>(owner);
  e.lookup = nullptr;
  e.resolving = false;
  if (r.status == UV_EAI_CANCELED)
    return;  // the checker is stopping
  const TargetInfo& t = e.up->target(e.index);
  const uint64_t wait_ms =
      ApplyResolution(*t.state, r, e.checker->opts_.dns, e.up->name(), t.target);
  e.next_dns = uv_now(e.checker->loop_) + wait_ms;
  e.checker->Schedule();
}

// --- HealthCheckerThread -------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HealthCheckerThread>> HealthCheckerThread::Start(
    CheckerOptions opts) {
  std::unique_ptr<HealthCheckerThread> t(new HealthCheckerThread());
  t->opts_ = opts;
  if (int rc = uv_loop_init(&t->loop_); rc != 0)
    return absl::InternalError(absl::StrCat("health checker loop: ", uv_strerror(rc)));
  if (int rc = uv_async_init(&t->loop_, &t->async_, OnAsync); rc != 0) {
    uv_loop_close(&t->loop_);
    return absl::InternalError(absl::StrCat("health checker async: ", uv_strerror(rc)));
  }
  t->async_.data = t.get();
  t->checker_ = std::make_unique<HealthChecker>(&t->loop_, opts);
  if (int rc = uv_thread_create(&t->thread_, Run, t.get()); rc != 0) {
    t->checker_.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&t->async_), nullptr);
    uv_run(&t->loop_, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop_);
    return absl::InternalError(absl::StrCat("health checker thread: ", uv_strerror(rc)));
  }
  return t;
}

void HealthCheckerThread::Run(void* arg) {
  auto* t = static_cast<HealthCheckerThread*>(arg);
  uv_run(&t->loop_, UV_RUN_DEFAULT);
}

void HealthCheckerThread::OnAsync(uv_async_t* a) {
  auto* t = static_cast<HealthCheckerThread*>(a->data);
  std::shared_ptr<const Set> set;
  bool has = false;
  bool stop = false;
  {
    absl::MutexLock lock(&t->mu_);
    set = std::move(t->pending_);
    has = t->has_pending_;
    t->has_pending_ = false;
    stop = t->stop_;
  }
  if (stop) {
    t->checker_.reset();  // stops: cancels probes and lookups, closes its timer
    uv_close(reinterpret_cast<uv_handle_t*>(&t->async_), nullptr);
    return;
  }
  if (has)
    t->checker_->Update(std::move(set));
}

void HealthCheckerThread::Update(std::shared_ptr<const Set> set) {
  {
    absl::MutexLock lock(&mu_);
    pending_ = std::move(set);
    has_pending_ = true;
  }
  uv_async_send(&async_);
}

HealthCheckerThread::~HealthCheckerThread() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  uv_async_send(&async_);
  uv_thread_join(&thread_);
  // The loop ran until every handle had closed; a leftover here would be a bug.
  uv_loop_close(&loop_);
}

}  // namespace sluice::balancer

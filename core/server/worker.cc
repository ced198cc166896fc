// SPDX-License-Identifier: Apache-2.0
#include "core/server/worker.h"

#include <algorithm>
#include <unistd.h>

#include "core/common/log.h"
#include "core/proxy/access_log.h"
#include "core/proxy/session.h"

namespace sluice::server {

Worker::Worker(int id, const proxy::Settings& settings, int access_log_fd)
    : id_(id), settings_(settings), access_log_fd_(access_log_fd) {}

Worker::~Worker() {
  Join();
  for (int fd : listen_fds_)
    ::close(fd);
}

absl::Status Worker::Start(const std::vector<net::ListenSpec>& listens,
                           std::shared_ptr<const proxy::Snapshot> snap) {
  for (const net::ListenSpec& spec : listens) {
    if (spec.ssl)
      return absl::UnimplementedError("listen " + spec.host + ": ssl is not supported yet");
    auto fd = net::OpenListener(spec.address, 511);
    if (!fd.ok())
      return fd.status();
    listen_fds_.push_back(*fd);
    listen_ports_.push_back(spec.port);
  }
  uv_loop_init(&loop_);
  ctx_ = std::make_unique<proxy::WorkerContext>(&loop_, settings_, &stats_);
  if (access_log_fd_ >= 0)
    ctx_->access_log = new proxy::AccessLog(&loop_, access_log_fd_);
  config_version_.store(snap->version, std::memory_order_relaxed);
  ctx_->Install(std::move(snap));
  uv_async_init(&loop_, &async_, [](uv_async_t* a) { static_cast<Worker*>(a->data)->OnAsync(); });
  async_.data = this;
  for (size_t i = 0; i < listen_fds_.size(); ++i) {
    auto* l = new Listener;
    l->worker = this;
    l->port = listen_ports_[i];
    uv_tcp_init(&loop_, &l->tcp);
    l->tcp.data = l;
    int rc = uv_tcp_open(&l->tcp, listen_fds_[i]);
    if (rc == 0) {
      listen_fds_[i] = -1;  // the handle owns it now
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(&l->tcp), 511, [](uv_stream_t* server, int st) {
        if (st != 0)
          return;
        auto* li = static_cast<Listener*>(server->data);
        proxy::Session::Accept(li->worker->ctx_.get(), server, li->port);
      });
    }
    listeners_.push_back(l);
    if (rc != 0)
      return absl::InternalError(std::string("listen: ") + uv_strerror(rc));
  }
  listen_fds_.erase(std::remove(listen_fds_.begin(), listen_fds_.end(), -1), listen_fds_.end());
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Worker::Publish(std::shared_ptr<const proxy::Snapshot> snap) {
  absl::MutexLock lock(&mu_);
  if (drain_requested_)
    return;  // the async handle may already be closed
  pending_ = std::move(snap);
  uv_async_send(&async_);
}

void Worker::Drain() {
  absl::MutexLock lock(&mu_);
  if (drain_requested_ || !thread_.joinable())
    return;
  drain_requested_ = true;
  uv_async_send(&async_);
}

void Worker::Join() {
  if (thread_.joinable())
    thread_.join();
}

void Worker::Run() {
  ctx_->StartFilters(id_);
  uv_run(&loop_, UV_RUN_DEFAULT);
  // Every handle is closed by Shutdown(); a second run lets their close callbacks finish.
  uv_run(&loop_, UV_RUN_DEFAULT);
  ctx_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0)
    log::Warn("worker %d: loop closed with live handles", id_);
}

void Worker::OnAsync() {
  std::shared_ptr<const proxy::Snapshot> snap;
  bool drain;
  {
    absl::MutexLock lock(&mu_);
    snap = std::move(pending_);
    drain = drain_requested_;
  }
  if (snap != nullptr && !shut_down_) {
    config_version_.store(snap->version, std::memory_order_relaxed);
    ctx_->Install(std::move(snap));
  }
  if (drain && drain_timer_ == nullptr && !shut_down_)
    BeginDrain();
}

void Worker::BeginDrain() {
  for (Listener* l : listeners_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&l->tcp),
             [](uv_handle_t* h) { delete static_cast<Listener*>(h->data); });
  }
  listeners_.clear();
  ctx_->draining = true;
  for (proxy::Session* s = ctx_->sessions_head; s != nullptr; s = s->next)
    s->Drain();
  drain_deadline_ms_ = uv_now(&loop_) + settings_.drain_timeout_ms;
  drain_timer_ = new uv_timer_t;
  uv_timer_init(&loop_, drain_timer_);
  drain_timer_->data = this;
  uv_timer_start(
      drain_timer_, [](uv_timer_t* t) { static_cast<Worker*>(t->data)->CheckDrained(); }, 20, 20);
}

void Worker::CheckDrained() {
  if (ctx_->sessions > 0 && uv_now(&loop_) < drain_deadline_ms_)
    return;
  if (ctx_->sessions > 0)
    log::Warn("worker %d: drain timeout, closing %d connections", id_,
              static_cast<int>(ctx_->sessions));
  Shutdown();
}

void Worker::Shutdown() {
  shut_down_ = true;
  // Whatever is still open past the deadline is cut.
  for (proxy::Session* s = ctx_->sessions_head; s != nullptr; s = s->next)
    s->ForceClose();
  ctx_->pool.Shutdown();
  ctx_->StopFilters();
  if (ctx_->access_log != nullptr)
    ctx_->access_log->Flush();
  uv_close(reinterpret_cast<uv_handle_t*>(drain_timer_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

}  // namespace sluice::server

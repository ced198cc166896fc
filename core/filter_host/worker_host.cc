// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/worker_host.h"

#include <utility>

#include "core/common/log.h"
#include "core/filter_host/chain.h"

namespace sluice::filter_host {
namespace {

thread_local WorkerHost* current_worker = nullptr;

}  // namespace

struct WorkerHost::Timer {
  uv_timer_t handle;
  WorkerHost* worker = nullptr;
  sluice_timer_fn fn = nullptr;
  void* user_data = nullptr;
  bool repeating = false;
  bool in_callback = false;
  bool cancelled = false;
};

bool Mailbox::Post(const Task& task) {
  absl::MutexLock lock(&mu_);
  if (async_ == nullptr)
    return false;
  queue_.push_back(task);
  // Sent under the lock so the worker cannot close the handle in between.
  uv_async_send(async_);
  return true;
}

WorkerHost::WorkerHost(uv_loop_t* loop, int index)
    : loop_(loop), index_(index), mailbox_(std::make_shared<Mailbox>()) {
  auto* async = new uv_async_t;
  uv_async_init(loop_, async, &WorkerHost::OnAsync);
  async->data = this;
  absl::MutexLock lock(&mailbox_->mu_);
  mailbox_->async_ = async;
  current_worker = this;
}

WorkerHost::~WorkerHost() {
  std::deque<Mailbox::Task> dropped;
  uv_async_t* async = nullptr;
  {
    absl::MutexLock lock(&mailbox_->mu_);
    std::swap(async, mailbox_->async_);
    dropped.swap(mailbox_->queue_);
  }
  for (const Mailbox::Task& t : dropped)
    t.ref->Unref();
  async->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(async),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  for (Timer* t : timers_)
    CloseTimer(t);
  timers_.clear();
  absl::flat_hash_set<HttpCall*> calls;
  calls.swap(http_calls_);
  for (HttpCall* c : calls)
    AbandonHttpCall(c);
  if (current_worker == this)
    current_worker = nullptr;
}

WorkerHost* WorkerHost::Current() { return current_worker; }

void WorkerHost::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<WorkerHost*>(handle->data);
  if (self == nullptr)
    return;
  std::deque<Mailbox::Task> tasks;
  {
    absl::MutexLock lock(&self->mailbox_->mu_);
    tasks.swap(self->mailbox_->queue_);
  }
  for (const Mailbox::Task& t : tasks)
    self->RunTask(t);
}

void WorkerHost::RunTask(const Mailbox::Task& task) {
  RequestRef* ref = task.ref;
  switch (task.kind) {
    case Mailbox::Kind::kResume:
      if (ref->chain != nullptr && ref->slot != nullptr)
        ref->chain->ResumeFromRef(ref->slot);
      break;
    case Mailbox::Kind::kPost:
      task.fn(ref->chain != nullptr ? reinterpret_cast<sluice_request*>(ref->slot) : nullptr,
              task.user_data);
      break;
    case Mailbox::Kind::kDeferred:
      if (ref->chain != nullptr)
        ref->chain->RunDeferred();
      break;
  }
  ref->Unref();
}

sluice_status WorkerHost::StartTimer(uint64_t delay_ms, uint64_t repeat_ms, sluice_timer_fn fn,
                                     void* user_data, sluice_timer** out) {
  if (fn == nullptr || out == nullptr)
    return SLUICE_ERR_INVALID;
  if (current_worker != this)
    return SLUICE_ERR_WRONG_THREAD;
  auto* t = new Timer;
  t->worker = this;
  t->fn = fn;
  t->user_data = user_data;
  t->repeating = repeat_ms > 0;
  uv_timer_init(loop_, &t->handle);
  t->handle.data = t;
  uv_timer_start(&t->handle, &WorkerHost::OnTimer, delay_ms, repeat_ms);
  timers_.insert(t);
  *out = reinterpret_cast<sluice_timer*>(t);
  return SLUICE_OK;
}

void WorkerHost::OnTimer(uv_timer_t* handle) {
  auto* t = static_cast<Timer*>(handle->data);
  t->in_callback = true;
  t->fn(t->user_data);
  t->in_callback = false;
  if (t->cancelled || !t->repeating) {
    t->worker->timers_.erase(t);
    CloseTimer(t);
  }
}

void WorkerHost::CloseTimer(Timer* t) {
  uv_timer_stop(&t->handle);
  uv_close(reinterpret_cast<uv_handle_t*>(&t->handle),
           [](uv_handle_t* h) { delete static_cast<Timer*>(h->data); });
}

sluice_status WorkerHost::CancelTimer(sluice_timer* timer) {
  auto* t = reinterpret_cast<Timer*>(timer);
  if (t == nullptr)
    return SLUICE_ERR_INVALID;
  if (current_worker != t->worker)
    return SLUICE_ERR_WRONG_THREAD;
  if (t->in_callback) {
    t->cancelled = true;
    uv_timer_stop(&t->handle);
    return SLUICE_OK;
  }
  t->worker->timers_.erase(t);
  CloseTimer(t);
  return SLUICE_OK;
}

WorkerFilters::WorkerFilters(WorkerHost& worker, const Chains& chains)
    : worker_(worker), chains_(chains), states_(chains.instances().size()) {
  for (const auto& in : chains.instances()) {
    if (!in->configured || in->module->desc.on_worker_new == nullptr)
      continue;
    State& st = states_[in->index];
    sluice_status r = in->module->desc.on_worker_new(
        in->config, reinterpret_cast<sluice_worker*>(&worker), &st.state);
    if (r == SLUICE_OK) {
      st.created = true;
    } else {
      st.failed = true;
      st.state = nullptr;
      log::Error("filter %s: on_worker_new failed on worker %d (status %d)", in->name,
                 worker.index(), r);
    }
  }
}

WorkerFilters::~WorkerFilters() {
  for (const auto& in : chains_.instances()) {
    const State& st = states_[in->index];
    if (st.created)
      in->module->desc.on_worker_destroy(in->config, st.state);
  }
}

}  // namespace sluice::filter_host

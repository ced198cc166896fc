// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/redis_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace sluice::filters::rate_limiting {
namespace {

uint64_t MonotonicMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

sluice_str Str(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

RedisClient::RedisClient(const sluice_host_api* host, sluice_worker* worker,
                         const RedisOptions& options)
    : host_(host), worker_(worker), options_(options) {}

RedisClient::~RedisClient() {
  if (timer_ != nullptr)
    host_->timer_cancel(timer_);
  if (tcp_ != nullptr)
    host_->tcp_close(tcp_);
}

void RedisClient::Log(sluice_log_level level, std::string_view message) const {
  std::string line = "redis " + options_.host + ":" + std::to_string(options_.port) + ": ";
  line += message;
  host_->log(nullptr, level, Str(line));
}

bool RedisClient::Connect() {
  sluice_tcp_callbacks cb{};
  cb.struct_size = sizeof cb;
  cb.on_connect = &RedisClient::OnConnect;
  cb.on_read = &RedisClient::OnRead;
  cb.on_close = &RedisClient::OnClose;
  sluice_tcp* tcp = nullptr;
  if (host_->tcp_connect(worker_, Str(options_.host), static_cast<uint16_t>(options_.port), &cb,
                         this, &tcp) != SLUICE_OK) {
    return false;
  }
  tcp_ = tcp;
  reader_ = std::make_unique<ReplyReader>();
  setup_replies_ = 0;
  // Kong's order on a new connection: AUTH [username] password, then SELECT when db != 0. They
  // are queued before the first batch, so the server sees them first.
  std::string setup;
  if (!options_.password.empty()) {
    bool ok = options_.username.empty()
                  ? AppendCommand(&setup, {"AUTH", options_.password})
                  : AppendCommand(&setup, {"AUTH", options_.username, options_.password});
    setup_replies_ += ok ? 1 : 0;
  }
  if (options_.database != 0) {
    std::string db = std::to_string(options_.database);
    setup_replies_ += AppendCommand(&setup, {"SELECT", db}) ? 1 : 0;
  }
  if (!setup.empty())
    host_->tcp_write(tcp_, Str(setup));
  return true;
}

void RedisClient::Close() {
  if (tcp_ != nullptr) {
    host_->tcp_close(tcp_);
    tcp_ = nullptr;
  }
  reader_.reset();
}

uint64_t RedisClient::Send(std::string_view commands, size_t count, Done done, void* ctx) {
  if (tcp_ == nullptr && !Connect()) {
    if (!down_)
      Log(SLUICE_LOG_ERROR, "cannot start a connection");
    down_ = true;
    return 0;
  }
  if (host_->tcp_write(tcp_, Str(commands)) != SLUICE_OK) {
    // The connection is failing already: fail what it carries and start a fresh one.
    FailAll("write failed");
    if (!Connect() || host_->tcp_write(tcp_, Str(commands)) != SLUICE_OK)
      return 0;
  }
  Batch b;
  b.id = next_id_++;
  b.count = count;
  b.done = done;
  b.ctx = ctx;
  b.deadline_ms = MonotonicMs() + static_cast<uint64_t>(options_.timeout_ms);
  b.replies.reserve(count);
  batches_.push_back(std::move(b));
  ArmTimer();
  return batches_.back().id;
}

void RedisClient::Cancel(uint64_t ticket) {
  for (Batch& b : batches_) {
    if (b.id == ticket) {
      b.done = nullptr;
      return;
    }
  }
}

void RedisClient::FailAll(std::string_view error) {
  Close();
  if (!down_)
    Log(SLUICE_LOG_ERROR, error);
  down_ = true;
  std::deque<Batch> failed;
  failed.swap(batches_);
  for (Batch& b : failed) {
    if (b.done != nullptr)
      b.done(b.ctx, false, nullptr, 0, error);
  }
}

void RedisClient::ArmTimer() {
  if (timer_ != nullptr || batches_.empty() || !SLUICE_HOST_HAS(host_, timer_start))
    return;
  const uint64_t now = MonotonicMs();
  const uint64_t deadline = batches_.front().deadline_ms;
  host_->timer_start(worker_, deadline > now ? deadline - now : 0, 0, &RedisClient::OnTimer, this,
                     &timer_);
}

void RedisClient::OnTimer(void* p) {
  auto* self = static_cast<RedisClient*>(p);
  self->timer_ = nullptr;  // a one-shot timer's handle is invalid once this returns
  if (self->batches_.empty())
    return;
  if (self->batches_.front().deadline_ms <= MonotonicMs()) {
    // Replies still owed on this connection would answer the wrong batches: drop it.
    self->FailAll("timeout after " + std::to_string(self->options_.timeout_ms) + " ms");
    return;
  }
  self->ArmTimer();
}

void RedisClient::OnConnect(void* p, sluice_tcp* tcp, sluice_status result) {
  auto* self = static_cast<RedisClient*>(p);
  if (tcp != self->tcp_)
    return;
  if (result != SLUICE_OK) {
    self->tcp_ = nullptr;  // the handle is gone
    self->FailAll("connect failed");
    return;
  }
  if (self->down_)
    self->Log(SLUICE_LOG_INFO, "connected again");
  self->down_ = false;
}

void RedisClient::OnClose(void* p, sluice_tcp* tcp, sluice_status) {
  auto* self = static_cast<RedisClient*>(p);
  if (tcp != self->tcp_)
    return;
  self->tcp_ = nullptr;  // invalid once this returns; tcp_close is not needed
  self->FailAll("connection closed");
}

void RedisClient::OnRead(void* p, sluice_tcp* tcp, sluice_str data) {
  auto* self = static_cast<RedisClient*>(p);
  if (tcp != self->tcp_ || self->reader_ == nullptr)
    return;
  if (!self->reader_->Feed(data.data, data.len)) {
    self->FailAll("protocol error");
    return;
  }
  for (;;) {
    Reply reply = self->reader_->Next();
    if (reply == nullptr) {
      if (self->reader_->failed())
        self->FailAll("protocol error");
      return;
    }
    if (self->setup_replies_ > 0) {
      --self->setup_replies_;
      ReplyView v = Inspect(*reply);
      if (v.type == ReplyView::Type::kError) {
        self->FailAll("AUTH/SELECT refused: " + std::string(v.text));
        return;
      }
      continue;
    }
    if (self->batches_.empty()) {
      self->FailAll("unexpected reply");
      return;
    }
    Batch& front = self->batches_.front();
    front.replies.push_back(std::move(reply));
    if (front.replies.size() < front.count)
      continue;
    Batch done = std::move(front);
    self->batches_.pop_front();
    if (done.done != nullptr)
      done.done(done.ctx, true, done.replies.data(), done.replies.size(), {});
  }
}

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/probe.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace sluice::balancer {
namespace {

// "HTTP/1.x SSS ..." -> SSS; 0 when the line is not a status line.
int ParseStatusLine(absl::string_view line) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ')
    return 0;
  int status = 0;
  if (!absl::SimpleAtoi(line.substr(9, 3), &status) || status < 100 || status > 999)
    return 0;
  return status;
}

}  // namespace

Probe* Probe::Start(uv_loop_t* loop, const net::Address& addr, std::string request,
                    uint64_t timeout_ms, Done done, void* owner, int* err) {
  auto* p = new Probe();
  p->request_ = std::move(request);
  p->done_ = done;
  p->owner_ = owner;
  uv_tcp_init(loop, &p->tcp_);
  uv_timer_init(loop, &p->timer_);
  p->tcp_.data = p;
  p->timer_.data = p;
  p->open_handles_ = 2;
  *err = uv_tcp_connect(&p->connect_req_, &p->tcp_, addr.sa(), [](uv_connect_t* req, int status) {
    auto* self = static_cast<Probe*>(req->handle->data);
    if (self->finished_)
      return;
    if (status < 0) {
      self->Finish({HealthEvent::kTcpFailure, 0, status});
      return;
    }
    if (self->request_.empty()) {
      self->Finish({HealthEvent::kSuccess, 0, 0});
      return;
    }
    uv_buf_t buf = uv_buf_init(self->request_.data(), self->request_.size());
    int rc = uv_write(&self->write_req_, req->handle, &buf, 1, [](uv_write_t* w, int st) {
      auto* me = static_cast<Probe*>(w->handle->data);
      if (st < 0 && !me->finished_)
        me->Finish({HealthEvent::kTcpFailure, 0, st});
    });
    if (rc == 0) {
      rc = uv_read_start(
          req->handle,
          [](uv_handle_t* h, size_t, uv_buf_t* b) {
            auto* me = static_cast<Probe*>(h->data);
            *b = uv_buf_init(me->buf_ + me->got_, sizeof(me->buf_) - me->got_);
          },
          [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
            static_cast<Probe*>(s->data)->OnRead(nread);
          });
    }
    if (rc < 0)
      self->Finish({HealthEvent::kTcpFailure, 0, rc});
  });
  if (*err != 0) {
    p->finished_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&p->tcp_), OnClosed);
    uv_close(reinterpret_cast<uv_handle_t*>(&p->timer_), OnClosed);
    return nullptr;
  }
  uv_timer_start(
      &p->timer_,
      [](uv_timer_t* t) {
        static_cast<Probe*>(t->data)->Finish({HealthEvent::kTimeout, 0, UV_ETIMEDOUT});
      },
      timeout_ms, 0);
  return p;
}

void Probe::OnRead(ssize_t nread) {
  if (finished_ || nread == 0)
    return;
  if (nread > 0)
    got_ += static_cast<size_t>(nread);
  absl::string_view seen(buf_, got_);
  const size_t eol = seen.find('\n');
  if (eol != absl::string_view::npos || got_ == sizeof(buf_) || nread < 0) {
    const int status = ParseStatusLine(seen.substr(0, eol));
    if (status == 0) {
      // Closed early or not HTTP: the target did not answer as a server should.
      Finish({HealthEvent::kTcpFailure, 0, nread < 0 ? static_cast<int>(nread) : UV_EPROTO});
    } else {
      Finish({HealthEvent::kSuccess, status, 0});
    }
  }
}

void Probe::Finish(const ProbeResult& r) {
  if (finished_)
    return;
  finished_ = true;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnClosed);
  if (done_ != nullptr)
    done_(owner_, r);
}

void Probe::Cancel() {
  done_ = nullptr;
  Finish({});
}

void Probe::OnClosed(uv_handle_t* h) {
  auto* p = static_cast<Probe*>(h->data);
  if (--p->open_handles_ == 0)
    delete p;
}

}  // namespace sluice::balancer

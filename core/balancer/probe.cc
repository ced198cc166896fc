// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/probe.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

#include "core/balancer/tls_probe.h"

namespace sluice::balancer {
namespace {

constexpr size_t kNetBufSize = 16 * 1024;  // one full TLS record

// "HTTP/1.x SSS ..." -> SSS; 0 when the line is not a status line.
int ParseStatusLine(absl::string_view line) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[8] != ' ')
    return 0;
  int status = 0;
  if (!absl::SimpleAtoi(line.substr(9, 3), &status) || status < 100 || status > 999)
    return 0;
  return status;
}

// One uv_write and the bytes it sends. libuv runs the callback even when the handle closes
// first (with UV_ECANCELED), and before the close callback, so the callback always frees it.
struct WriteReq {
  uv_write_t req;
  std::string bytes;
};

}  // namespace

std::string ProbeErrorText(int error) {
  if (std::string tls = TlsErrorText(error); !tls.empty())
    return tls;
  if (error == 0)
    return "";
  char text[128];
  return uv_strerror_r(error, text, sizeof(text));  // unlike uv_strerror, never allocates
}

Probe::Probe() = default;

Probe::~Probe() = default;

Probe* Probe::Start(uv_loop_t* loop, const net::Address& addr, std::string request,
                    const ProbeTls* tls, uint64_t timeout_ms, Done done, void* owner, int* err) {
  auto* p = new Probe();
  p->request_ = std::move(request);
  p->done_ = done;
  p->owner_ = owner;
  uv_tcp_init(loop, &p->tcp_);
  uv_timer_init(loop, &p->timer_);
  p->tcp_.data = p;
  p->timer_.data = p;
  p->open_handles_ = 2;
  *err = 0;
  if (tls != nullptr) {
    if (tls->ctx != nullptr)
      p->tls_ = TlsSession::Create(tls->ctx, tls->sni, tls->verify_name, tls->verify);
    if (p->tls_ == nullptr) {
      *err = TlsHandshakeError(0);
    } else {
      p->net_buf_.reset(new char[kNetBufSize]);
    }
  }
  if (*err == 0) {
    *err = uv_tcp_connect(&p->connect_req_, &p->tcp_, addr.sa(), [](uv_connect_t* req, int st) {
      auto* self = static_cast<Probe*>(req->handle->data);
      if (self->finished_)
        return;
      if (st < 0) {
        self->Finish({HealthEvent::kTcpFailure, 0, st});
      } else {
        self->OnConnected();
      }
    });
  }
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

void Probe::OnConnected() {
  if (tls_ == nullptr && request_.empty()) {
    Finish({HealthEvent::kSuccess, 0, 0});
    return;
  }
  const int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* me = static_cast<Probe*>(h->data);
        *b = me->tls_ != nullptr ? uv_buf_init(me->net_buf_.get(), kNetBufSize)
                                 : uv_buf_init(me->buf_ + me->got_, sizeof(me->buf_) - me->got_);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* me = static_cast<Probe*>(s->data);
        if (me->tls_ != nullptr) {
          me->OnTlsRead(nread);
        } else {
          me->OnPlain(nread);
        }
      });
  if (rc < 0) {
    Finish({HealthEvent::kTcpFailure, 0, rc});
  } else if (tls_ == nullptr) {
    Send(std::move(request_));
  } else {
    OnTlsRead(0);  // starts the handshake: sends the ClientHello
  }
}

void Probe::OnTlsRead(ssize_t nread) {
  if (finished_)
    return;
  if (nread > 0) {
    tls_->Received(net_buf_.get(), static_cast<size_t>(nread));
  } else if (nread < 0) {
    tls_->ReceivedEof();
  }
  if (!tls_->handshake_done()) {
    switch (tls_->Handshake()) {
      case TlsSession::Step::kFailed:
        Finish({HealthEvent::kTcpFailure, 0, tls_->error()});
        return;
      case TlsSession::Step::kWantInput:
        if (nread < 0) {
          Finish({HealthEvent::kTcpFailure, 0, TlsHandshakeError(0)});
        } else {
          Send(tls_->TakeOutput());
        }
        return;
      case TlsSession::Step::kDone:
        break;
    }
    if (request_.empty()) {
      // grpcs: without the gRPC health protocol, a verified handshake is the whole check.
      Finish({HealthEvent::kSuccess, 0, 0});
      return;
    }
    if (!tls_->Write(request_)) {
      Finish({HealthEvent::kTcpFailure, 0, UV_EPROTO});
      return;
    }
  }
  // Decrypt all that arrived; OnPlain finishes at the end of the status line or of the stream.
  for (;;) {
    const long n = tls_->Read(buf_ + got_, sizeof(buf_) - got_);
    if (n == 0)
      break;
    OnPlain(n > 0 ? n : static_cast<long>(UV_EOF));
    if (finished_)
      return;
  }
  if (nread < 0) {
    OnPlain(nread);
  } else {
    Send(tls_->TakeOutput());
  }
}

void Probe::OnPlain(long n) {
  if (finished_ || n == 0)
    return;
  if (n > 0)
    got_ += static_cast<size_t>(n);
  absl::string_view seen(buf_, got_);
  const size_t eol = seen.find('\n');
  if (eol != absl::string_view::npos || got_ == sizeof(buf_) || n < 0) {
    const int status = ParseStatusLine(seen.substr(0, eol));
    if (status == 0) {
      // Closed early or not HTTP: the target did not answer as a server should.
      Finish({HealthEvent::kTcpFailure, 0, n < 0 ? static_cast<int>(n) : UV_EPROTO});
    } else {
      Finish({HealthEvent::kSuccess, status, 0});
    }
  }
}

void Probe::Send(std::string bytes) {
  if (bytes.empty() || finished_)
    return;
  auto* w = new WriteReq{{}, std::move(bytes)};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), w->bytes.size());
  const int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1,
                          [](uv_write_t* req, int st) {
                            auto* me = static_cast<Probe*>(req->handle->data);
                            delete static_cast<WriteReq*>(req->data);
                            if (st < 0 && !me->finished_)
                              me->Finish({HealthEvent::kTcpFailure, 0, st});
                          });
  if (rc < 0) {
    delete w;
    Finish({HealthEvent::kTcpFailure, 0, rc});
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

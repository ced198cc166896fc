// SPDX-License-Identifier: Apache-2.0
#include "core/balancer/tls_probe.h"

#include "absl/strings/str_cat.h"
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace sluice::balancer {
namespace {

// Each range holds 10000 codes; libuv's errors end at -4095.
constexpr int kHandshakeBase = -10000;
constexpr int kVerifyBase = -20000;
constexpr int kRange = 10000;

// The reason of the oldest SSL-library error queued on this thread (0 when none), and an empty
// queue afterwards, so no stale error reaches the next OpenSSL call on this thread.
int TakeSslReason() {
  const unsigned long e = ERR_peek_error();
  ERR_clear_error();
  return ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
}

}  // namespace

void SslCtxFree::operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }

absl::StatusOr<TlsContextPtr> NewProbeTlsContext() {
  TlsContextPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    ERR_clear_error();
    return absl::InternalError("health checker: cannot create a tls client context");
  }
  // A missing default file or directory is not an error here: verification then fails per
  // probe, which the report shows.
  SSL_CTX_set_default_verify_paths(ctx.get());
  ERR_clear_error();
  return ctx;
}

int TlsHandshakeError(int ssl_reason) {
  return kHandshakeBase - (ssl_reason > 0 && ssl_reason < kRange ? ssl_reason : 0);
}

int TlsVerifyError(long x509_error) {
  return kVerifyBase - static_cast<int>(x509_error > 0 && x509_error < kRange ? x509_error : 0);
}

std::string TlsErrorText(int error) {
  if (error <= kHandshakeBase && error > kHandshakeBase - kRange) {
    const char* why = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, kHandshakeBase - error));
    return why == nullptr ? "tls handshake failed" : absl::StrCat("tls handshake failed: ", why);
  }
  if (error <= kVerifyBase && error > kVerifyBase - kRange) {
    return absl::StrCat("tls certificate rejected: ",
                        X509_verify_cert_error_string(kVerifyBase - error));
  }
  return "";
}

std::unique_ptr<TlsSession> TlsSession::Create(SSL_CTX* ctx, const std::string& sni,
                                               const std::string& verify_name, bool verify) {
  std::unique_ptr<TlsSession> s(new TlsSession());
  s->verify_ = verify;
  s->ssl_ = SSL_new(ctx);
  s->in_ = BIO_new(BIO_s_mem());
  s->out_ = BIO_new(BIO_s_mem());
  if (s->ssl_ == nullptr || s->in_ == nullptr || s->out_ == nullptr) {
    // Until SSL_set_bio the BIOs are ours to free.
    BIO_free(s->in_);
    BIO_free(s->out_);
    s->in_ = s->out_ = nullptr;
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_mem_eof_return(s->in_, -1);  // no input yet means "retry", not end of stream
  SSL_set_bio(s->ssl_, s->in_, s->out_);
  SSL_set_connect_state(s->ssl_);
  bool ok = sni.empty() || SSL_set_tlsext_host_name(s->ssl_, sni.c_str()) == 1;
  if (verify) {
    SSL_set_verify(s->ssl_, SSL_VERIFY_PEER, nullptr);
    // An IP literal is matched against the certificate's IP addresses, anything else as a name.
    X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, verify_name.c_str()) != 1) {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = ok && SSL_set1_host(s->ssl_, verify_name.c_str()) == 1;
    }
  }
  ERR_clear_error();
  return ok ? std::move(s) : nullptr;
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::Received(const char* data, size_t n) { BIO_write(in_, data, static_cast<int>(n)); }

void TlsSession::ReceivedEof() { BIO_set_mem_eof_return(in_, 0); }

TlsSession::Step TlsSession::Handshake() {
  if (done_)
    return Step::kDone;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    done_ = true;
    return Step::kDone;
  }
  if (SSL_get_error(ssl_, rc) == SSL_ERROR_WANT_READ)
    return Step::kWantInput;
  // With SSL_VERIFY_PEER a rejected certificate ends the handshake; say which check failed.
  const int reason = TakeSslReason();
  const long verify = SSL_get_verify_result(ssl_);
  error_ = verify_ && verify != X509_V_OK ? TlsVerifyError(verify) : TlsHandshakeError(reason);
  return Step::kFailed;
}

bool TlsSession::Write(absl::string_view plain) {
  const bool ok = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size())) ==
                  static_cast<int>(plain.size());
  if (!ok)
    ERR_clear_error();
  return ok;
}

long TlsSession::Read(char* buf, size_t cap) {
  const int rc = SSL_read(ssl_, buf, static_cast<int>(cap));
  if (rc > 0)
    return rc;
  const int err = SSL_get_error(ssl_, rc);
  ERR_clear_error();
  return err == SSL_ERROR_WANT_READ ? 0 : -1;
}

std::string TlsSession::TakeOutput() {
  std::string out;
  char* data = nullptr;
  const long n = BIO_get_mem_data(out_, &data);
  if (n > 0) {
    out.assign(data, static_cast<size_t>(n));
    (void)BIO_reset(out_);
  }
  return out;
}

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// The TLS half of an https health probe: an OpenSSL client over two memory BIOs, so the probe's
// libuv stream carries the bytes and nothing here touches a socket or a loop. Also the probe
// error codes of TLS failures, which count as TCP failures (Kong).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include <openssl/types.h>

namespace sluice::balancer {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept;
};

using TlsContextPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// A client context for probes: TLS 1.2 or newer, trusting OpenSSL's default verify paths, which
// honour SSL_CERT_FILE and SSL_CERT_DIR as they are set at this call. Made once per checker and
// used from its loop thread; each session holds its own reference, so the context may go first.
absl::StatusOr<TlsContextPtr> NewProbeTlsContext();

// ProbeResult::error codes for TLS failures, below libuv's range (-4095..-1): a failed handshake
// carries OpenSSL's SSL-library reason (0 when none), a rejected certificate its X509_V_ERR_*.
int TlsHandshakeError(int ssl_reason);
int TlsVerifyError(long x509_error);

// "tls handshake failed: wrong version number", "tls certificate rejected: self-signed
// certificate"; "" when `error` is not one of the codes above.
std::string TlsErrorText(int error);

// One client connection's TLS state. Ciphertext from the peer goes in through Received; what
// OpenSSL wants sent (handshake messages, records, alerts) comes out through TakeOutput.
class TlsSession {
 public:
  enum class Step { kWantInput, kDone, kFailed };

  // `sni` empty: no server name is sent. When `verify` holds, the chain must reach a trusted
  // root and the leaf must match `verify_name`, an IP literal or a host name. nullptr when
  // OpenSSL cannot allocate.
  static std::unique_ptr<TlsSession> Create(SSL_CTX* ctx, const std::string& sni,
                                            const std::string& verify_name, bool verify);
  ~TlsSession();

  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  void Received(const char* data, size_t n);

  // The peer closed: OpenSSL reads end of input from now on.
  void ReceivedEof();

  // Runs the handshake as far as the input allows. On kFailed, error() holds a TLS code.
  Step Handshake();

  bool handshake_done() const { return done_; }

  // Encrypts `plain` once the handshake is done; false on failure.
  bool Write(absl::string_view plain);

  // Decrypts up to `cap` bytes into `buf`: the count, 0 when more input is needed, -1 when the
  // stream has ended (close_notify, end of input or an error).
  long Read(char* buf, size_t cap);

  // Ciphertext waiting to be sent, moved out (empty when none).
  std::string TakeOutput();

  int error() const { return error_; }

 private:
  TlsSession() = default;

  SSL* ssl_ = nullptr;  // owns both BIOs
  BIO* in_ = nullptr;   // from the peer
  BIO* out_ = nullptr;  // to the peer
  bool verify_ = false;
  bool done_ = false;
  int error_ = 0;
};

}  // namespace sluice::balancer

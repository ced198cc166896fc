// SPDX-License-Identifier: Apache-2.0
// TLS fixtures made with the openssl CLI: a throwaway CA with a leaf certificate for localhost
// and 127.0.0.1, and `openssl s_server -www` (answers every GET with "HTTP/1.0 200 ok") on a
// loopback port. Header-only, on top of the harness's processes and temp dirs.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace sluice::testing {

// Runs `openssl args...` to completion; throws with its stderr when it fails.
inline void RunOpenssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  Process p = Process::Spawn(args);
  const std::optional<int> rc = p.Wait(Millis(30000));
  if (rc != 0) {
    p.Kill();
    throw std::runtime_error("openssl " + args[1] + " failed: " + p.ReadStderr());
  }
}

// Key and certificate files in a temp dir: ca.pem signs leaf.pem (key leaf.key, names
// DNS:localhost and IP:127.0.0.1); other_ca.pem is an unrelated CA that signs nothing.
class TestPki {
 public:
  TestPki() {
    MakeCa("ca");
    MakeCa("other_ca");
    RunOpenssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                key(), "-out", dir_.Path("leaf.csr"), "-subj", "/CN=localhost"});
    const std::string ext = dir_.WriteFile(
        "leaf.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
    RunOpenssl({"x509", "-req", "-in", dir_.Path("leaf.csr"), "-CA", ca(), "-CAkey",
                dir_.Path("ca.key"), "-set_serial", "2", "-days", "2", "-extfile", ext, "-out",
                cert()});
  }

  std::string ca() const { return dir_.Path("ca.pem"); }

  std::string other_ca() const { return dir_.Path("other_ca.pem"); }

  std::string cert() const { return dir_.Path("leaf.pem"); }

  std::string key() const { return dir_.Path("leaf.key"); }

  // A directory with no certificates, for SSL_CERT_DIR.
  const std::string& empty_dir() const { return empty_.path(); }

 private:
  void MakeCa(const std::string& name) {
    RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", dir_.Path(name + ".key"), "-out", dir_.Path(name + ".pem"), "-days", "2",
                "-subj", "/CN=sluice test " + name, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign"});
  }

  TempDir dir_;
  TempDir empty_;
};

// `openssl s_server -www` on 127.0.0.1:port with the PKI's leaf certificate; killed by PID on
// destruction (Process). Start may be delayed, so a test can show a target coming up.
class OpensslServer {
 public:
  explicit OpensslServer(const TestPki& pki, int port = 0, bool start = true)
      : pki_(pki), port_(port != 0 ? port : FreePort()) {
    if (start)
      Start();
  }

  void Start() {
    process_.emplace(
        Process::Spawn({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port_),
                        "-cert", pki_.cert(), "-key", pki_.key(), "-www", "-quiet"}));
    if (!WaitForPort(port_, Millis(10000), &*process_))
      throw std::runtime_error("openssl s_server did not start: " + process_->ReadStderr());
  }

  int port() const { return port_; }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  const TestPki& pki_;
  int port_;
  std::optional<Process> process_;
};

}  // namespace sluice::testing

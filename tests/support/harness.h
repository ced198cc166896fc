// SPDX-License-Identifier: Apache-2.0
// The integration-test harness: free ports, temp dirs, child processes (build/sluice, sluice-echo,
// curl) that are killed by PID even when a test fails, a raw HTTP/1.1 client and a curl runner.
// Setup failures (a binary that will not start, a refused connect) throw std::runtime_error, which
// Catch2 reports with the message; what a test asserts on is returned as data instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::testing {

using Millis = std::chrono::milliseconds;

// Header fields as received: names lower-cased, values with surrounding whitespace trimmed,
// repeated fields kept in arrival order.
using Headers = std::multimap<std::string, std::string>;

// The value of the environment variable `name`; throws when it is unset or empty. CTest sets
// SLUICE_BIN, SLUICE_ECHO_BIN and SLUICE_SOURCE_DIR for every test.
std::string RequireEnv(const char* name);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int FreePort();

// A port on 127.0.0.1 that is bound but never listens, for as long as this object lives: connects
// to it are refused, and no other process can take it meanwhile (unlike a FreePort() number).
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction unless
// SLUICE_KEEP_TEMP is set in the environment.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // "<dir>/<name>"; the file need not exist.
  std::string Path(std::string_view name) const;

  // Writes `text` to "<dir>/<name>" (replacing it) and returns that path; throws on I/O errors.
  std::string WriteFile(std::string_view name, std::string_view text) const;

 private:
  std::string path_;
};

// A child process started with fork/execve. The destructor SIGKILLs and reaps it if it is still
// running, and prints its stderr when the scope is left by an exception (a failed REQUIRE).
class Process {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') with the current environment plus `env`
  // ("NAME=value" entries, overriding). stdin is /dev/null; stdout and stderr go to files in the
  // process's own TempDir. The child dies with the test process (PR_SET_PDEATHSIG). Throws when
  // the program cannot be started.
  static Process Spawn(const std::vector<std::string>& argv,
                       const std::vector<std::string>& env = {});

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t Pid() const { return pid_; }

  // True while the child has not exited (reaps it when it has).
  bool Running();

  // Sends `sig` to the child if it is still running.
  void Signal(int sig);

  // Waits up to `timeout` for the child to exit. Returns its exit code, or 128 + the signal number
  // when a signal ended it (the shell convention); nullopt when it is still running.
  std::optional<int> Wait(Millis timeout);

  // SIGKILLs (if running) and reaps. Safe to call more than once.
  void Kill();

  std::string ReadStdout() const;
  std::string ReadStderr() const;

  const std::string& stdout_path() const { return stdout_path_; }

  const std::string& stderr_path() const { return stderr_path_; }

 private:
  Process() = default;
  bool Reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string name_;
  std::unique_ptr<TempDir> dir_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Polls a TCP connect to 127.0.0.1:port until it succeeds (true) or `timeout` passes. Gives up
// early when `process` is given and has exited.
bool WaitForPort(int port, Millis timeout, Process* process = nullptr);

// `text` with every "${NAME}" replaced by its value; unknown names are left as they are.
std::string Substitute(std::string_view text,
                       const std::vector<std::pair<std::string, std::string>>& vars);

// FNV-1a 64 of `data` as 16 lower-case hex digits, as sluice-echo reports in "body_fnv".
std::string Fnv1a64Hex(std::string_view data);

// `len` bytes of sluice-echo's generated body starting at `offset` (byte i = 'a' + i % 26).
std::string EchoPattern(uint64_t offset, size_t len);

// `len` deterministic, non-periodic bytes (a 64-bit LCG seeded with `seed`), for request bodies.
std::string PseudoRandomBytes(size_t len, uint64_t seed = 1);

// The index of the first byte of `body` that differs from EchoPattern(offset, ...), or npos.
size_t FirstPatternMismatch(std::string_view body, uint64_t offset = 0);

// One HTTP response as read from the wire.
struct Response {
  int status = 0;  // 0 when no status line arrived
  std::string reason;
  int http_major = 0;
  int http_minor = 0;
  Headers headers;
  std::string body;       // de-chunked
  bool chunked = false;   // the body came with Transfer-Encoding: chunked
  bool complete = false;  // a whole message was parsed
  bool closed = false;    // the peer closed (FIN or RST) while this response was read
  bool reset = false;     // ... with an RST
  std::string error;      // parse error or timeout; empty when none

  // The first value of header `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
  size_t HeaderCount(std::string_view name) const;

  bool HasHeader(std::string_view name) const { return HeaderCount(name) > 0; }

  // The body parsed as JSON; a discarded value (is_discarded()) when it is not JSON.
  nlohmann::json Json() const;
  // Status, flags, headers and the first 512 bytes of the body, for INFO().
  std::string Describe() const;
};

// A blocking-style TCP client on 127.0.0.1 with timeouts (non-blocking socket and poll). Bytes
// that arrive after a response stay buffered for the next read, so pipelining works.
class RawConn {
 public:
  // Connects to 127.0.0.1:port; throws when the connection is refused. `idle_timeout` bounds
  // every wait for the peer (not whole transfers, so big bodies are fine).
  explicit RawConn(int port, Millis idle_timeout = Millis(10000));
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  // Sends all of `bytes`; false when the peer closed, reset, or stopped reading for the idle
  // timeout.
  bool Send(std::string_view bytes);

  // Reads one response. `head_request` tells the parser that it answers a HEAD (no body). 1xx
  // interim responses are skipped (except 101). Never throws: see Response::complete/error.
  Response ReadResponse(bool head_request = false);

  // Everything still unread plus all bytes until the peer closes (or the idle timeout passes).
  std::string ReadUntilClose();

  // True when the peer closes (FIN or RST) within `timeout`; bytes that arrive meanwhile are kept.
  bool IsClosed(Millis timeout);

  // Half-closes the sending side (shutdown SHUT_WR).
  void ShutdownWrite();

  void set_idle_timeout(Millis timeout) { idle_timeout_ = timeout; }

  int fd() const { return fd_; }

 private:
  // Waits up to `timeout` for input and appends it to buf_; false on timeout. Sets eof_/reset_.
  bool Fill(Millis timeout);

  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool reset_ = false;
  Millis idle_timeout_;
};

// A minimal request: "<method> <target> HTTP/1.1", Host, then `extra` (complete header lines,
// each ending in "\r\n"), a blank line and `body` (Content-Length added when non-empty).
std::string Request(std::string_view method, std::string_view target,
                    std::string_view host = "localhost", std::string_view extra = "",
                    std::string_view body = "");

// The result of one curl run.
struct CurlResult {
  int exit_code = -1;  // curl's own: 0 ok, 7 refused, 28 timeout, 52 empty reply, 56 recv error
  int status = 0;      // %{http_code}; 0 when no response arrived
  Headers headers;     // of the last response (after any 100 Continue), lower-cased names
  std::string body;
  std::string stderr_text;

  std::string Header(std::string_view name) const;
  nlohmann::json Json() const;  // like Response::Json
};

// Runs `curl -q -sS --noproxy '*' -o BODY -D HEADERS -w '%{http_code}' --max-time T ARGS...`
// directly (fork/exec, no shell); the child is killed if it outlives `timeout` by 5 s.
CurlResult RunCurl(const std::vector<std::string>& args, Millis timeout = Millis(60000));

template <typename... Args>
CurlResult Curl(Args&&... args) {
  return RunCurl(std::vector<std::string>{std::string(std::forward<Args>(args))...});
}

// sluice-echo ($SLUICE_ECHO_BIN) on `host` (a loopback address) and `port` (0: a free one),
// ready when constructed. GetStats needs host 127.0.0.1.
class EchoServer {
 public:
  struct Stats {
    uint64_t connections = 0;  // accepted, including the one Stats() itself opens
    uint64_t requests = 0;     // answered, /__stats excluded
  };

  explicit EchoServer(std::string name = "echo", std::string host = "127.0.0.1", int port = 0);

  int port() const { return port_; }

  const std::string& name() const { return name_; }

  std::string address() const;  // "HOST:PORT"
  std::string url() const;      // "http://HOST:PORT"

  Process& process() { return *process_; }

  // GET /__stats on a new connection. Throws when the answer is not the expected JSON.
  Stats GetStats();

 private:
  std::string name_;
  std::string host_;
  int port_ = 0;
  std::optional<Process> process_;
};

struct SluiceOptions {
  int workers = 1;
  std::string access_log;  // empty: "<dir>/access.log"; else a path, "-" or "off"
  std::vector<std::string> extra_args;
  std::vector<std::string> env;  // "NAME=value" for the gateway's environment
  Millis start_timeout = Millis(20000);
};

// The gateway ($SLUICE_BIN) with `config_yaml` written to "<dir>/kong.yml", started as
//   sluice -c FILE --listen 127.0.0.1:P --admin-listen 127.0.0.1:A --workers W --access-log PATH
// and ready (both ports accept) when constructed; throws with its stderr when it does not start.
class Sluice {
 public:
  explicit Sluice(std::string_view config_yaml, SluiceOptions options = {});

  int port() const { return port_; }

  int admin_port() const { return admin_port_; }

  Process& process() { return *process_; }

  const TempDir& dir() const { return *dir_; }

  const std::string& config_path() const { return config_path_; }

  const std::string& access_log_path() const { return access_log_; }

  // "http://127.0.0.1:PORT" + path
  std::string url(std::string_view path = "/") const;

 private:
  std::unique_ptr<TempDir> dir_;
  std::string config_path_;
  std::string access_log_;
  int port_ = 0;
  int admin_port_ = 0;
  std::optional<Process> process_;
};

}  // namespace sluice::testing

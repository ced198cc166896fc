// SPDX-License-Identifier: Apache-2.0
// The integration-test harness (see harness.h): ports, temp dirs, processes, the echo and gateway
// launchers and the byte helpers. The HTTP client and curl live in http_client.cc.
#include "tests/support/harness.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/harness_internal.h"

extern char** environ;

namespace sluice::testing {
namespace {

using internal::Clock;
using internal::Contains;
using internal::ErrnoText;
using internal::Error;
using internal::Lower;
using internal::ReadFileOrEmpty;
using internal::Tail;

// argv[0] as given when it holds a '/', else the first executable match in $PATH ("" if none).
std::string ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return name;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    std::string candidate(dirs.substr(0, colon));
    candidate += '/';
    candidate += name;
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) {
      break;
    }
    dirs.remove_prefix(colon + 1);
  }
  return "";
}

// The current environment with `extra` ("NAME=value") added or overriding.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    const bool overridden = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return name_of(x) == name_of(entry);
    });
    if (!overridden) {
      out.emplace_back(entry);
    }
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}
}  // namespace

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw Error(std::string(name) + " is not set (CTest sets it; export it to run a test by hand)");
  }
  return value;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw Error("FreePort: socket: " + ErrnoText(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    throw Error("FreePort: bind 127.0.0.1:0: " + ErrnoText(err));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

ClosedPort::ClosedPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    if (fd_ >= 0) {
      close(fd_);
    }
    throw Error("ClosedPort: bind 127.0.0.1:0: " + ErrnoText(err));
  }
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() { close(fd_); }

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/sluice-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw Error("TempDir: mkdtemp " + tmpl + ": " + ErrnoText(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SLUICE_KEEP_TEMP") != nullptr) {
    std::cerr << "[harness] kept " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Path(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string TempDir::WriteFile(std::string_view name, std::string_view text) const {
  const std::string path = Path(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    throw Error("TempDir: cannot write " + path);
  }
  return path;
}

Process Process::Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  if (argv.empty()) {
    throw Error("Process::Spawn: empty argv");
  }
  const std::string exe = ResolveExecutable(argv[0]);
  if (exe.empty()) {
    throw Error("Process::Spawn: " + argv[0] + " not found in PATH");
  }
  Process p;
  p.name_ = std::filesystem::path(exe).filename().string();
  p.dir_ = std::make_unique<TempDir>();
  p.stdout_path_ = p.dir_->Path("stdout");
  p.stderr_path_ = p.dir_->Path("stderr");

  // Everything the child needs is built before fork: it may only make async-signal-safe calls.
  std::vector<char*> cargv;
  for (const std::string& a : argv) {
    cargv.push_back(const_cast<char*>(a.c_str()));
  }
  cargv.push_back(nullptr);
  const std::vector<std::string> envs = MergedEnvironment(env);
  std::vector<char*> cenv;
  for (const std::string& e : envs) {
    cenv.push_back(const_cast<char*>(e.c_str()));
  }
  cenv.push_back(nullptr);

  const int out = open(p.stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = open(p.stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_pipe[2] = {-1, -1};
  if (out < 0 || err < 0 || null_in < 0 || pipe2(exec_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {out, err, null_in, exec_pipe[0], exec_pipe[1]}) {
      if (fd >= 0) {
        close(fd);
      }
    }
    throw Error("Process::Spawn " + exe + ": " + ErrnoText(e));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
      _exit(127);  // the test process died between fork and prctl
    }
    dup2(null_in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execve(exe.c_str(), cargv.data(), cenv.data());
    const int e = errno;
    [[maybe_unused]] const ssize_t n = write(exec_pipe[1], &e, sizeof(e));
    _exit(127);
  }
  const int fork_errno = errno;
  close(exec_pipe[1]);
  close(out);
  close(err);
  close(null_in);
  if (pid < 0) {
    close(exec_pipe[0]);
    throw Error("Process::Spawn " + exe + ": fork: " + ErrnoText(fork_errno));
  }
  p.pid_ = pid;
  // The pipe closes on a successful exec (O_CLOEXEC) and carries errno on a failed one.
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    p.Reap(true);
    p.pid_ = -1;  // nothing ran: no stderr to report
    throw Error("Process::Spawn " + exe + ": " + ErrnoText(child_errno));
  }
  return p;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(other.status_),
      name_(std::move(other.name_)),
      dir_(std::move(other.dir_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
    name_ = std::move(other.name_);
    dir_ = std::move(other.dir_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

Process::~Process() {
  if (pid_ <= 0) {
    return;
  }
  if (std::uncaught_exceptions() > 0) {
    // A REQUIRE failed while this process was alive: its stderr usually says why.
    std::cerr << "[harness] " << name_ << " (pid " << pid_ << ") stderr:\n"
              << Tail(ReadStderr(), 4096) << "\n";
  }
  Kill();
}

bool Process::Reap(bool block) {
  if (pid_ <= 0 || status_.has_value()) {
    return true;
  }
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    return false;
  }
  if (r < 0) {
    status_ = -1;  // not our child any more; nothing to wait for
  } else if (WIFEXITED(st)) {
    status_ = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    status_ = 128 + WTERMSIG(st);
  } else {
    return false;
  }
  return true;
}

bool Process::Running() { return !Reap(false); }

void Process::Signal(int sig) {
  if (Running()) {
    kill(pid_, sig);
  }
}

std::optional<int> Process::Wait(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!Reap(false)) {
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(Millis(5));
  }
  return status_;
}

void Process::Kill() {
  if (Running()) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
}

std::string Process::ReadStdout() const { return ReadFileOrEmpty(stdout_path_); }

std::string Process::ReadStderr() const { return ReadFileOrEmpty(stderr_path_); }

bool WaitForPort(int port, Millis timeout, Process* process) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) {
      return true;
    }
    if ((process != nullptr && !process->Running()) || Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(Millis(10));
  }
}

std::string Substitute(std::string_view text,
                       const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("${", pos);
    if (open == std::string_view::npos) {
      break;
    }
    const size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) {
      break;
    }
    out.append(text.substr(pos, open - pos));
    const std::string_view name = text.substr(open + 2, close - open - 2);
    const auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end()) {
      out += it->second;
    } else {
      out.append(text.substr(open, close + 1 - open));
    }
    pos = close + 1;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string Fnv1a64Hex(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string EchoPattern(uint64_t offset, size_t len) {
  std::string out(len, '\0');
  for (size_t i = 0; i < len; ++i) {
    out[i] = static_cast<char>('a' + (offset + i) % 26);
  }
  return out;
}

std::string PseudoRandomBytes(size_t len, uint64_t seed) {
  std::string out(len, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL;
  for (char& c : out) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

size_t FirstPatternMismatch(std::string_view body, uint64_t offset) {
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != static_cast<char>('a' + (offset + i) % 26)) {
      return i;
    }
  }
  return std::string_view::npos;
}

EchoServer::EchoServer(std::string name, std::string host, int port)
    : name_(std::move(name)), host_(std::move(host)) {
  const std::string bin = RequireEnv("SLUICE_ECHO_BIN");
  std::string last_error;
  // A free port can be taken by someone else before the child binds it: retry on another.
  for (int attempt = 0; attempt < (port == 0 ? 3 : 1); ++attempt) {
    port_ = port != 0 ? port : FreePort();
    process_.emplace(Process::Spawn({bin, "--listen", address(), "--name", name_}));
    // Waiting for the "listening on" line, not probing the port, keeps /__stats exact.
    const std::string ready = "listening on " + address();
    const auto deadline = Clock::now() + Millis(15000);
    while (Clock::now() < deadline && process_->Running() &&
           !Contains(process_->ReadStdout(), ready)) {
      std::this_thread::sleep_for(Millis(5));
    }
    if (Contains(process_->ReadStdout(), ready)) {
      return;
    }
    last_error = process_->ReadStderr();
    process_->Kill();
    if (!Contains(last_error, "address already in use")) {
      break;
    }
  }
  throw Error("sluice-echo " + name_ + " did not start on " + address() + ": " + last_error);
}

std::string EchoServer::address() const { return host_ + ":" + std::to_string(port_); }

std::string EchoServer::url() const { return "http://" + address(); }

EchoServer::Stats EchoServer::GetStats() {
  RawConn conn(port_);
  if (!conn.Send(Request("GET", "/__stats"))) {
    throw Error("sluice-echo " + name_ + ": cannot send GET /__stats");
  }
  const Response r = conn.ReadResponse();
  const nlohmann::json j = r.Json();
  if (!r.complete || r.status != 200 || !j.is_object() || !j.contains("connections") ||
      !j.contains("requests")) {
    throw Error("sluice-echo " + name_ + ": bad /__stats answer: " + r.Describe());
  }
  return Stats{j["connections"].get<uint64_t>(), j["requests"].get<uint64_t>()};
}

Sluice::Sluice(std::string_view config_yaml, SluiceOptions options)
    : dir_(std::make_unique<TempDir>()) {
  const std::string bin = RequireEnv("SLUICE_BIN");
  config_path_ = dir_->WriteFile("kong.yml", config_yaml);
  access_log_ = options.access_log.empty() ? dir_->Path("access.log") : options.access_log;
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreePort();
    do {
      admin_port_ = FreePort();
    } while (admin_port_ == port_);
    std::vector<std::string> argv = {bin,
                                     "-c",
                                     config_path_,
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--admin-listen",
                                     "127.0.0.1:" + std::to_string(admin_port_),
                                     "--workers",
                                     std::to_string(options.workers),
                                     "--access-log",
                                     access_log_};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    process_.emplace(Process::Spawn(argv, options.env));
    if (WaitForPort(port_, options.start_timeout, &*process_) &&
        WaitForPort(admin_port_, options.start_timeout, &*process_)) {
      return;
    }
    const bool exited = !process_->Running();
    last_error = (exited ? "exited: " : "ports not ready: ") + Tail(process_->ReadStderr(), 4096);
    process_->Kill();
    if (!exited || Lower(last_error).find("in use") == std::string::npos) {
      break;
    }
  }
  throw Error("sluice did not start (" + config_path_ + "): " + last_error);
}

std::string Sluice::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}
}  // namespace sluice::testing

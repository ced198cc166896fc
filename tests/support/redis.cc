// SPDX-License-Identifier: Apache-2.0
#include "tests/support/redis.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

#include "tests/support/harness_internal.h"

namespace sluice::testing {
namespace {

using internal::Clock;
using internal::Contains;
using internal::Error;

// Bytes of the first complete RESP value at the start of `s`, or 0 when more are needed.
size_t RespLength(std::string_view s) {
  const size_t eol = s.find("\r\n");
  if (s.empty() || eol == std::string_view::npos)
    return 0;
  const char type = s[0];
  if (type == '+' || type == '-' || type == ':')
    return eol + 2;
  const long long n = std::atoll(std::string(s.substr(1, eol - 1)).c_str());
  if (type == '$') {
    const size_t need = n < 0 ? eol + 2 : eol + 2 + static_cast<size_t>(n) + 2;
    return s.size() >= need ? need : 0;
  }
  if (type == '*') {
    size_t pos = eol + 2;
    for (long long i = 0; i < n; ++i) {
      const size_t len = RespLength(s.substr(pos));
      if (len == 0)
        return 0;
      pos += len;
    }
    return pos;
  }
  return eol + 2;  // unknown type: the line
}

}  // namespace

std::string EncodeRespCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

RedisServer::RedisServer(std::vector<std::string> extra_args) {
  const char* env = std::getenv("SLUICE_REDIS_SERVER");
  const std::string bin = env != nullptr && *env != '\0' ? env : "redis-server";
  std::string last_error;
  // A free port can be taken before the server binds it: retry on another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreePort();
    std::vector<std::string> argv = {bin,      "--port",       std::to_string(port_),
                                     "--bind", "127.0.0.1",    "--save",
                                     "",       "--appendonly", "no",
                                     "--dir",  dir_.path(),    "--protected-mode",
                                     "no",     "--daemonize",  "no"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_.emplace(Process::Spawn(argv));
    const auto deadline = Clock::now() + Millis(15000);
    while (Clock::now() < deadline && process_->Running()) {
      if (WaitForPort(port_, Millis(100), &*process_)) {
        try {
          // With --requirepass PING answers NOAUTH, which still means "ready".
          const std::string pong = Command({"PING"});
          if (Contains(pong, "PONG") || Contains(pong, "NOAUTH"))
            return;
        } catch (const std::exception&) {
        }
      }
      std::this_thread::sleep_for(Millis(10));
    }
    last_error = process_->ReadStdout() + process_->ReadStderr();
    process_->Kill();
    if (!Contains(last_error, "in use"))
      break;
  }
  throw Error("redis-server did not start on port " + std::to_string(port_) + ": " + last_error);
}

RedisServer::~RedisServer() { Stop(); }

void RedisServer::Stop() {
  if (process_.has_value())
    process_->Kill();
}

std::string RedisServer::Command(const std::vector<std::string>& args) const {
  // A plain socket: the harness's RawConn speaks HTTP.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw Error("redis: socket: " + internal::ErrnoText(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    throw Error("redis: connect to port " + std::to_string(port_) + ": " +
                internal::ErrnoText(err));
  }
  const std::string request = EncodeRespCommand(args);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  std::string got;
  char buf[4096];
  while (sent == request.size() && RespLength(got) == 0) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const size_t len = RespLength(got);
  if (len == 0)
    throw Error("redis: no reply on port " + std::to_string(port_) + " (got '" + got + "')");
  return got.substr(0, len);
}

}  // namespace sluice::testing

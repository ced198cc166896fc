// SPDX-License-Identifier: Apache-2.0
// A real redis-server for tests: Debian's binary on 127.0.0.1 and a free port, with no
// persistence and its files in a temp dir, ready (answering PING) when constructed and killed
// by PID when destroyed (also when a test fails).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tests/support/harness.h"

namespace sluice::testing {

class RedisServer {
 public:
  // Starts `redis-server` (from PATH, or $SLUICE_REDIS_SERVER) with `extra_args` appended, e.g.
  // {"--requirepass", "secret"}. Throws with its output when it does not come up.
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();

  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }

  // Kills the server now (a "Redis is down" test); the port then refuses connections for as
  // long as no one else takes it.
  void Stop();

  // Runs one command on a new connection and returns the reply as RESP text, e.g. ":3\r\n" or
  // "+OK\r\n" (bulk strings and arrays whole). Throws when the server cannot be reached.
  std::string Command(const std::vector<std::string>& args) const;

 private:
  TempDir dir_;
  int port_ = 0;
  std::optional<Process> process_;
};

// The RESP encoding of one command (an array of bulk strings).
std::string EncodeRespCommand(const std::vector<std::string>& args);

}  // namespace sluice::testing

// SPDX-License-Identifier: Apache-2.0
// Socket addresses and listening sockets: parsing `HOST:PORT[ ssl]` and binding with
// SO_REUSEPORT so every worker owns its own accept queue.
#pragma once

#include <netinet/in.h>
#include <string>
#include <sys/socket.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sluice::net {

// A numeric socket address (IPv4 or IPv6).
struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }

  int port() const;

  std::string ToString() const;  // "1.2.3.4:80" or "[::1]:80"
};

// A listen address from the command line: "HOST:PORT" or "HOST:PORT ssl".
struct ListenSpec {
  std::string host;
  int port = 0;
  bool ssl = false;
  Address address;
};

// Parses "HOST:PORT[ ssl]"; HOST must be a numeric IP, "[v6]", "localhost" or "*".
absl::StatusOr<ListenSpec> ParseListen(absl::string_view text);

// Parses a numeric IP and port into an Address; false when `host` is not a numeric IP.
bool ParseNumeric(absl::string_view host, int port, Address* out);

// Fails when another socket, even one with SO_REUSEPORT (say, another sluice), holds `address`:
// SO_REUSEPORT would otherwise let a second process silently share the port.
absl::Status CheckAvailable(const Address& address);

// Opens a non-blocking listening TCP socket with SO_REUSEADDR and SO_REUSEPORT. Returns the fd.
absl::StatusOr<int> OpenListener(const Address& address, int backlog);

}  // namespace sluice::net

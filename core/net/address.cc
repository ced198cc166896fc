// SPDX-License-Identifier: Apache-2.0
#include "core/net/address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::net {

int Address::port() const {
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string Address::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (storage.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
              sizeof buf);
    return absl::StrCat("[", buf, "]:", port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
  return absl::StrCat(buf, ":", port());
}

bool ParseNumeric(absl::string_view host, int port, Address* out) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']')
    h = h.substr(1, h.size() - 2);
  *out = Address();
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out->storage);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

absl::StatusOr<ListenSpec> ParseListen(absl::string_view text) {
  ListenSpec spec;
  absl::string_view rest = text;
  if (absl::EndsWith(rest, " ssl")) {
    spec.ssl = true;
    rest.remove_suffix(4);
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("listen '", text, "': expected HOST:PORT"));
  }
  spec.host = std::string(rest.substr(0, colon));
  if (!absl::SimpleAtoi(rest.substr(colon + 1), &spec.port) || spec.port < 0 || spec.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("listen '", text, "': bad port"));
  }
  std::string host = spec.host;
  if (host == "*" || host.empty())
    host = "0.0.0.0";
  if (host == "localhost")
    host = "127.0.0.1";
  if (!ParseNumeric(host, spec.port, &spec.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen '", text, "': host must be a numeric address"));
  }
  return spec;
}

absl::Status CheckAvailable(const Address& address) {
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = ::bind(fd, address.sa(), address.len);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("listen ", address.ToString(), ": ", strerror(err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> OpenListener(const Address& address, int backlog) {
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      ::bind(fd, address.sa(), address.len) != 0 || ::listen(fd, backlog) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("listen ", address.ToString(), ": ", strerror(err)));
  }
  return fd;
}

}  // namespace sluice::net

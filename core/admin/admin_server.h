// SPDX-License-Identifier: Apache-2.0
// The admin listener: a small HTTP/1.1 server on the main thread's loop. It parses requests
// with llhttp and hands method and path to a handler; bodies are read up to a bound and passed
// along (for POST /config later). One response per connection, then close.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include <uv.h>

#include "core/net/address.h"

namespace sluice::admin {

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Control plane only: a std::function per admin request is fine here.
using Handler = std::function<Response(absl::string_view method, absl::string_view path,
                                       absl::string_view body)>;

class AdminServer {
 public:
  AdminServer(uv_loop_t* loop, Handler handler);
  ~AdminServer();

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  absl::Status Listen(const net::Address& address);

  // Stops accepting; open admin connections finish on their own.
  void Close();

 private:
  struct Conn;
  static void OnConnection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  Handler handler_;
  uv_tcp_t* listener_ = nullptr;
};

}  // namespace sluice::admin

// SPDX-License-Identifier: Apache-2.0
// A scripted HTTP/1.1 server on 127.0.0.1 that runs on the test's own libuv loop, for the
// http_call tests: it records each request exactly as received and answers by its path, so a
// test can ask for well-formed, malformed, oversized or missing responses.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <uv.h>

namespace sluice::filter_host::testing {

// Reads one request per connection (head, then a Content-Length body), records it, then answers
// by the path up to '?' and closes:
//   /ok        200, content-type text/plain, "hello" with Content-Length
//   /chunked   200, chunked "hel" + "lo", a trailer
//   /eof       200 without a length: "until close", then the close ends it
//   /continue  103 and 100 interim responses, then 200 "after"
//   /head      200 with Content-Length: 5 and no body (answer to HEAD)
//   /empty     204 with no body
//   /big       200 claiming Content-Length 9 MiB, and nothing more
//   /huge      200 chunked, 8 MiB + 1 bytes of 'x'
//   /garbage   bytes that are not HTTP
//   /cut       Content-Length: 10, then "abc" and the close
//   /stall     Content-Length: 10, then "abc", and the connection stays open
//   /silent    never answers (the connection stays open)
//   /fetch     200, text/plain "<method> <x-from field> <body>" (for the good.c fixture)
// Anything else gets 404.
class HttpTestServer {
 public:
  explicit HttpTestServer(uv_loop_t* loop);

  // Closes the listener and every connection; the loop must run afterwards to free them.
  ~HttpTestServer();

  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }

  // Every complete request received so far, head and body, byte for byte.
  const std::vector<std::string>& requests() const { return requests_; }

 public:
  struct Client;

  void Forget(Client* c) { clients_.erase(c); }  // from a connection's close callback

 private:
  static void OnConnection(uv_stream_t* s, int status);
  static void OnRead(uv_stream_t* s, ssize_t n, const uv_buf_t* b);
  void Answer(Client* c, const std::string& request);

  uv_tcp_t* listener_ = nullptr;  // freed in its close callback
  uint16_t port_ = 0;
  std::vector<std::string> requests_;
  std::set<Client*> clients_;  // open ones
};

}  // namespace sluice::filter_host::testing

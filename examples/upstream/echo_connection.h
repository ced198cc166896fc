// SPDX-License-Identifier: Apache-2.0
// One accepted client connection of sluice-echo: parses requests with llhttp, answers them one
// at a time in order (pipelined requests wait in a buffer), and streams bodies with backpressure.
// echo_connection.cc holds the I/O state machine; echo_response.cc builds each endpoint's answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <llhttp.h>
#include <uv.h>

#include "examples/upstream/echo_endpoints.h"

namespace sluice::echo {

class Connection;

// A prebuilt /bench response: `head_len` bytes of status line and headers, then the body.
struct CannedResponse {
  std::string bytes;
  size_t head_len = 0;
};

// State shared by every connection of the (single-threaded) server. Owned by main.
struct Server {
  uv_loop_t* loop = nullptr;
  std::string name;
  uint64_t connections = 0;            // accepted since start
  uint64_t requests = 0;               // dispatched since start, /__stats requests excluded
  CannedResponse bench_keep_alive;     // HTTP/1.1 persistent
  CannedResponse bench_keep_alive_10;  // HTTP/1.0 with Connection: keep-alive
  CannedResponse bench_close;
  Connection* live = nullptr;  // intrusive list of open connections, for shutdown
};

// Builds the three /bench responses for `server.name`.
void BuildCannedResponses(Server& server);

// A connection owns its uv_tcp_t and timer as members because its write and shutdown requests
// live inside it too: it deletes itself in the last close callback, after libuv has cancelled
// those requests. All methods run on the loop thread.
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts one pending connection on `listener` and starts serving it. Failures close it.
  static void Accept(Server& server, uv_stream_t* listener);

  // Closes every open connection at once (server shutdown).
  static void CloseAll(Server& server);

 private:
  enum class State { kOpen, kLingering, kClosed };
  enum class TimerUse { kNone, kDelay, kSlowRead, kReset, kLinger };
  enum class Framing { kLength, kChunked, kClose };
  enum class After { kKeepAlive, kClose, kReset };

  // One header as offsets into header_bytes_ (no allocation per header once warmed up).
  struct HeaderSpan {
    size_t name_off = 0;
    size_t name_len = 0;
    size_t value_off = 0;
    size_t value_len = 0;
  };

  // The response being written. Only one exists at a time: pipelined requests wait.
  struct Response {
    bool active = false;
    bool head_sent = false;
    bool terminator_sent = false;
    const char* fixed = nullptr;  // head (and small body) to write first
    size_t fixed_len = 0;
    bool stream = false;  // then a generated body of stream_total bytes
    Framing framing = Framing::kLength;
    uint64_t stream_total = 0;
    uint64_t stream_sent = 0;
    After after = After::kKeepAlive;
  };

  explicit Connection(Server& server);
  ~Connection() = default;

  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnSideWrite(uv_write_t* req, int status);
  static void OnShutdown(uv_shutdown_t* req, int status);
  static void OnTimer(uv_timer_t* timer);
  static void OnClosed(uv_handle_t* handle);

  static int OnMessageBegin(llhttp_t* parser);
  static int OnUrl(llhttp_t* parser, const char* at, size_t len);
  static int OnHeaderField(llhttp_t* parser, const char* at, size_t len);
  static int OnHeaderFieldComplete(llhttp_t* parser);
  static int OnHeaderValue(llhttp_t* parser, const char* at, size_t len);
  static int OnHeadersComplete(llhttp_t* parser);
  static int OnBody(llhttp_t* parser, const char* at, size_t len);
  static int OnMessageComplete(llhttp_t* parser);
  static const llhttp_settings_t& Settings();

  // Feeds bytes to the parser and answers every complete request, in order. `data` must not
  // point into pending_.
  void Process(const char* data, size_t len);
  // Called with the parser paused after a complete request.
  void StartResponse();
  // Builds the answer (after any delay) and starts writing it.
  void Respond();
  // Writes the current response's next pieces until a write is pending or it is done.
  void Pump();
  // Tries to write now; queues the rest. True when everything went out synchronously.
  bool Write(uv_buf_t* bufs, unsigned count);
  void FinishResponse();
  // Serves the requests that arrived while a response was being written.
  void ResumeAfterResponse();

  void SetFixed(int status, const char* content_type, const std::string& body, After after);
  void SetStream(int status, Framing framing, uint64_t total, After after);
  void AppendHead(int status, const char* content_type, const uint64_t* content_length,
                  bool chunked, After after);
  void AppendEchoJson(std::string& out) const;
  bool HasHeaderToken(std::string_view name, std::string_view token) const;

  void StartReading();
  void StopReading();
  void ArmTimer(TimerUse use, uint64_t ms);
  void SendSide(const char* data, size_t len);
  // Half-closes after the queued writes, then discards input until EOF or a timeout.
  void Linger();
  void Reset();  // RST (SO_LINGER 0)
  void Close();  // idempotent
  void Unlink();

  Server& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t write_req_{};
  uv_write_t side_req_{};  // 100 Continue, written beside a response
  uv_shutdown_t shutdown_req_{};
  int open_handles_ = 0;
  State state_ = State::kOpen;
  TimerUse timer_use_ = TimerUse::kNone;
  bool reading_ = false;
  bool in_process_ = false;
  bool slow_read_ = false;
  bool side_writing_ = false;
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;

  llhttp_t parser_{};
  char read_buf_[64 * 1024];
  std::string pending_;  // unparsed bytes that arrived while a response was being written

  // The request being parsed or answered.
  std::string url_;
  std::string header_bytes_;
  std::vector<HeaderSpan> headers_;
  bool in_field_ = false;
  Target target_;
  bool keep_alive_ = true;
  int method_ = 0;
  int http_major_ = 1;
  int http_minor_ = 1;
  uint64_t body_bytes_ = 0;
  Fnv1a64 body_fnv_;

  Response resp_;
  std::string out_;  // head and body of a built response
  char chunk_head_[24] = {};
};

}  // namespace sluice::echo

// SPDX-License-Identifier: Apache-2.0
// What sluice-echo answers: the head and body of each endpoint's response, the echo JSON and the
// canned /bench responses. How the bytes are written is echo_connection.cc's business.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "examples/upstream/echo_connection.h"

namespace sluice::echo {
namespace {

constexpr uint64_t kResetMidDeclared = 1'000'000;  // Content-Length announced by /reset-mid
constexpr uint64_t kResetMidSent = 1000;           // bytes actually sent before the RST
constexpr std::string_view kGarbage = "HTTP/1.1 abc\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";
constexpr const char* kJson = "application/json";

CannedResponse MakeCanned(const std::string& body, std::string_view connection_line) {
  CannedResponse r;
  r.bytes = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ";
  r.bytes += std::to_string(body.size());
  r.bytes += kCrlf;
  r.bytes += connection_line;
  r.bytes += kCrlf;
  r.head_len = r.bytes.size();
  r.bytes += body;
  return r;
}
}  // namespace

void BuildCannedResponses(Server& server) {
  std::string body = "{\"service\":";
  AppendJsonString(body, server.name);
  body += ",\"bench\":true,\"message\":\"hello from sluice-echo\",\"pad\":\"";
  // Pads the body to about 100 bytes whatever the name's length.
  const size_t used = body.size() + 2;
  body.append(used < 100 ? 100 - used : 0, 'x');
  body += "\"}";
  server.bench_keep_alive = MakeCanned(body, "");
  server.bench_keep_alive_10 = MakeCanned(body, "Connection: keep-alive\r\n");
  server.bench_close = MakeCanned(body, "Connection: close\r\n");
}

void Connection::Respond() {
  const After after = keep_alive_ ? After::kKeepAlive : After::kClose;
  const bool http10 = http_major_ == 1 && http_minor_ == 0;
  switch (target_.endpoint) {
    case Endpoint::kBench: {
      const CannedResponse& r = !keep_alive_ ? server_.bench_close
                                : http10     ? server_.bench_keep_alive_10
                                             : server_.bench_keep_alive;
      resp_.fixed = r.bytes.data();
      resp_.fixed_len = method_ == HTTP_HEAD ? r.head_len : r.bytes.size();
      resp_.after = after;
      break;
    }
    case Endpoint::kStats:
      SetFixed(200, kJson,
               "{\"connections\":" + std::to_string(server_.connections) +
                   ",\"requests\":" + std::to_string(server_.requests) + "}",
               after);
      break;
    case Endpoint::kStatus:
      SetFixed(static_cast<int>(target_.number), kJson,
               "{\"status\":" + std::to_string(target_.number) + "}", after);
      break;
    case Endpoint::kBytes:
      SetStream(200, Framing::kLength, target_.number, after);
      break;
    case Endpoint::kChunked:
      // HTTP/1.0 has no chunked coding: such a client gets a close-delimited body.
      if (http10) {
        SetStream(200, Framing::kClose, target_.number, After::kClose);
      } else {
        SetStream(200, Framing::kChunked, target_.number, after);
      }
      break;
    case Endpoint::kClose:
      SetStream(200, Framing::kClose, target_.number, After::kClose);
      break;
    case Endpoint::kResetMid:
      SetStream(200, Framing::kLength, kResetMidDeclared, After::kReset);
      resp_.stream_total = std::min(resp_.stream_total, kResetMidSent);
      break;
    case Endpoint::kResetNow:
      Reset();
      return;
    case Endpoint::kGarbage:
      resp_.fixed = kGarbage.data();
      resp_.fixed_len = kGarbage.size();
      resp_.after = After::kClose;
      break;
    case Endpoint::kCloseAfter: {
      std::string body = "{\"service\":";
      AppendJsonString(body, server_.name);
      body += ",\"close\":true}";
      SetFixed(200, kJson, body, After::kClose);
      break;
    }
    case Endpoint::kBadArgument:
      SetFixed(400, kJson, "{\"error\":\"bad number in path or query\"}", after);
      break;
    case Endpoint::kEcho:
    case Endpoint::kDelay:
    case Endpoint::kHeadersDelay:
    case Endpoint::kSlowRead: {
      std::string body;
      AppendEchoJson(body);
      SetFixed(200, kJson, body, after);
      break;
    }
  }
  Pump();
}

void Connection::AppendHead(int status, const char* content_type, const uint64_t* content_length,
                            bool chunked, After after) {
  out_ = "HTTP/1.1 ";
  out_ += std::to_string(status);
  out_ += ' ';
  out_ += ReasonPhrase(status);
  out_ += kCrlf;
  if (content_type != nullptr) {
    out_ += "Content-Type: ";
    out_ += content_type;
    out_ += kCrlf;
  }
  if (content_length != nullptr) {
    out_ += "Content-Length: ";
    out_ += std::to_string(*content_length);
    out_ += kCrlf;
  }
  if (chunked) {
    out_ += "Transfer-Encoding: chunked\r\n";
  }
  if (after == After::kClose) {
    out_ += "Connection: close\r\n";
  } else if (after == After::kKeepAlive && http_major_ == 1 && http_minor_ == 0) {
    out_ += "Connection: keep-alive\r\n";
  }
  out_ += kCrlf;
}

void Connection::SetFixed(int status, const char* content_type, const std::string& body,
                          After after) {
  const bool no_body = status == 204 || status == 304;
  if (no_body) {
    AppendHead(status, nullptr, nullptr, false, after);
  } else {
    const uint64_t length = body.size();
    AppendHead(status, content_type, &length, false, after);
    if (method_ != HTTP_HEAD) {
      out_ += body;
    }
  }
  resp_.fixed = out_.data();
  resp_.fixed_len = out_.size();
  resp_.after = after;
}

void Connection::SetStream(int status, Framing framing, uint64_t total, After after) {
  AppendHead(status, "application/octet-stream", framing == Framing::kLength ? &total : nullptr,
             framing == Framing::kChunked, after);
  resp_.fixed = out_.data();
  resp_.fixed_len = out_.size();
  resp_.after = after;
  resp_.stream = method_ != HTTP_HEAD;
  resp_.framing = framing;
  resp_.stream_total = total;
}

void Connection::AppendEchoJson(std::string& out) const {
  out += "{\"service\":";
  AppendJsonString(out, server_.name);
  out += ",\"method\":";
  AppendJsonString(out, llhttp_method_name(static_cast<llhttp_method_t>(method_)));
  out += ",\"path\":";
  AppendJsonString(out, target_.path);
  out += ",\"query\":";
  AppendJsonString(out, target_.query);
  out += ",\"http_version\":\"";
  out += std::to_string(http_major_);
  out += '.';
  out += std::to_string(http_minor_);
  out += "\",\"headers\":{";
  // Repeated names are joined in arrival order; a request has few headers, so O(n^2) is fine.
  std::vector<bool> done(headers_.size());
  std::string name;
  std::string value;
  const std::string_view bytes = header_bytes_;
  bool first = true;
  for (size_t i = 0; i < headers_.size(); ++i) {
    if (done[i]) {
      continue;
    }
    const std::string_view raw_name = bytes.substr(headers_[i].name_off, headers_[i].name_len);
    name.assign(raw_name);
    std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
    value.assign(TrimOws(bytes.substr(headers_[i].value_off, headers_[i].value_len)));
    for (size_t j = i + 1; j < headers_.size(); ++j) {
      if (!done[j] &&
          EqualsIgnoreCase(raw_name, bytes.substr(headers_[j].name_off, headers_[j].name_len))) {
        done[j] = true;
        value += ", ";
        value += TrimOws(bytes.substr(headers_[j].value_off, headers_[j].value_len));
      }
    }
    if (!first) {
      out += ',';
    }
    first = false;
    AppendJsonString(out, name);
    out += ':';
    AppendJsonString(out, value);
  }
  out += "},\"body_bytes\":";
  out += std::to_string(body_bytes_);
  out += ",\"body_fnv\":\"";
  out += body_fnv_.Hex();
  out += "\"}";
}

bool Connection::HasHeaderToken(std::string_view name, std::string_view token) const {
  const std::string_view bytes = header_bytes_;
  for (const HeaderSpan& h : headers_) {
    if (!EqualsIgnoreCase(bytes.substr(h.name_off, h.name_len), name)) {
      continue;
    }
    std::string_view value = bytes.substr(h.value_off, h.value_len);
    while (!value.empty()) {
      const size_t comma = value.find(',');
      if (EqualsIgnoreCase(TrimOws(value.substr(0, comma)), token)) {
        return true;
      }
      if (comma == std::string_view::npos) {
        break;
      }
      value.remove_prefix(comma + 1);
    }
  }
  return false;
}
}  // namespace sluice::echo

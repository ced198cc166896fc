// SPDX-License-Identifier: Apache-2.0
// The harness's HTTP side (see harness.h): the llhttp-based raw client and the curl runner.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include <llhttp.h>

#include "tests/support/harness.h"
#include "tests/support/harness_internal.h"

namespace sluice::testing {
namespace {

using internal::Clock;
using internal::ErrnoText;
using internal::Error;
using internal::Lower;
using internal::ReadFileOrEmpty;
using internal::Trim;

std::string FirstHeader(const Headers& headers, std::string_view name) {
  const auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

int PollMs(Millis timeout) {
  return static_cast<int>(std::clamp<Millis::rep>(timeout.count(), 0, 24 * 3600 * 1000));
}

// Response parsing with llhttp: one fresh parser per response, paused at its end so that bytes
// of the next pipelined response stay in the connection's buffer.
struct ParseContext {
  Response* response = nullptr;
  bool head_request = false;
  bool field_done = false;
  bool done = false;
  std::string field;
  std::string value;

  void FlushHeader() {
    if (!field.empty() || field_done) {
      response->headers.emplace(Lower(field), std::string(Trim(value)));
    }
    field.clear();
    value.clear();
    field_done = false;
  }
};

ParseContext& Ctx(llhttp_t* p) { return *static_cast<ParseContext*>(p->data); }

const llhttp_settings_t& ResponseSettings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_status = [](llhttp_t* p, const char* at, size_t len) {
      Ctx(p).response->reason.append(at, len);
      return 0;
    };
    s.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      ParseContext& c = Ctx(p);
      if (c.field_done) {
        c.FlushHeader();
      }
      c.field.append(at, len);
      return 0;
    };
    s.on_header_field_complete = [](llhttp_t* p) {
      Ctx(p).field_done = true;
      return 0;
    };
    s.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      Ctx(p).value.append(at, len);
      return 0;
    };
    s.on_headers_complete = [](llhttp_t* p) {
      ParseContext& c = Ctx(p);
      c.FlushHeader();
      c.response->status = llhttp_get_status_code(p);
      c.response->http_major = llhttp_get_http_major(p);
      c.response->http_minor = llhttp_get_http_minor(p);
      c.response->chunked = (p->flags & F_CHUNKED) != 0;
      return c.head_request ? 1 : 0;  // 1: this message has no body
    };
    s.on_body = [](llhttp_t* p, const char* at, size_t len) {
      Ctx(p).response->body.append(at, len);
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) {
      Ctx(p).done = true;
      return static_cast<int>(HPE_PAUSED);
    };
    return s;
  }();
  return settings;
}
}  // namespace

std::string Response::Header(std::string_view name) const { return FirstHeader(headers, name); }

size_t Response::HeaderCount(std::string_view name) const { return headers.count(Lower(name)); }

nlohmann::json Response::Json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string Response::Describe() const {
  std::ostringstream out;
  out << "HTTP/" << http_major << "." << http_minor << " " << status << " " << reason
      << (complete ? "" : " [incomplete]") << (closed ? " [closed]" : "")
      << (reset ? " [reset]" : "") << (chunked ? " [chunked]" : "");
  if (!error.empty()) {
    out << " error: " << error;
  }
  out << "\n";
  for (const auto& [name, value] : headers) {
    out << name << ": " << value << "\n";
  }
  out << "body (" << body.size() << " bytes): " << body.substr(0, 512)
      << (body.size() > 512 ? "..." : "");
  return out.str();
}

RawConn::RawConn(int port, Millis idle_timeout) : idle_timeout_(idle_timeout) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    throw Error("RawConn: socket: " + ErrnoText(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    close(fd_);
    fd_ = -1;
    throw Error("RawConn: connect 127.0.0.1:" + std::to_string(port) + ": " + ErrnoText(err));
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawConn::~RawConn() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool RawConn::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (poll(&pfd, 1, PollMs(idle_timeout_)) <= 0) {
        return false;
      }
      continue;
    }
    return false;  // EPIPE, ECONNRESET, ...
  }
  return true;
}

bool RawConn::Fill(Millis timeout) {
  if (eof_) {
    return true;
  }
  pollfd pfd{fd_, POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, PollMs(timeout));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return false;
  }
  char chunk[256 * 1024];
  const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n > 0) {
    buf_.append(chunk, static_cast<size_t>(n));
  } else if (n == 0) {
    eof_ = true;
  } else if (errno == ECONNRESET) {
    eof_ = true;
    reset_ = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    eof_ = true;
  }
  return true;
}

Response RawConn::ReadResponse(bool head_request) {
  while (true) {
    Response r;
    ParseContext ctx;
    ctx.response = &r;
    ctx.head_request = head_request;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &ResponseSettings());
    parser.data = &ctx;
    while (true) {
      if (!buf_.empty()) {
        const llhttp_errno_t err = llhttp_execute(&parser, buf_.data(), buf_.size());
        if (ctx.done && (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE)) {
          buf_.erase(0, static_cast<size_t>(llhttp_get_error_pos(&parser) - buf_.data()));
          r.complete = true;
          break;
        }
        if (err != HPE_OK) {
          r.error = std::string("parse error ") + llhttp_errno_name(err) + ": " +
                    llhttp_get_error_reason(&parser);
          break;
        }
        buf_.clear();  // the parser has taken everything it needs through its callbacks
      }
      if (eof_) {
        const llhttp_errno_t err = llhttp_finish(&parser);
        if (ctx.done) {
          r.complete = true;  // close-delimited body
        } else if (r.status == 0 && err == HPE_OK) {
          r.error = "connection closed before a response";
        } else {
          r.error = std::string("connection closed mid-response: ") + llhttp_errno_name(err);
        }
        break;
      }
      if (!Fill(idle_timeout_)) {
        r.error = "no data for " + std::to_string(idle_timeout_.count()) + " ms";
        break;
      }
    }
    r.closed = eof_;
    r.reset = reset_;
    if (r.complete && r.status >= 100 && r.status < 200 && r.status != 101) {
      continue;  // an interim response: the real one follows
    }
    return r;
  }
}

std::string RawConn::ReadUntilClose() {
  while (!eof_ && Fill(idle_timeout_)) {
  }
  std::string out;
  out.swap(buf_);
  return out;
}

bool RawConn::IsClosed(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!eof_) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0 || !Fill(left)) {
      return eof_;
    }
  }
  return true;
}

void RawConn::ShutdownWrite() { shutdown(fd_, SHUT_WR); }

std::string Request(std::string_view method, std::string_view target, std::string_view host,
                    std::string_view extra, std::string_view body) {
  std::string out;
  out.reserve(128 + extra.size() + body.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  out.append("\r\n").append(extra);
  if (!body.empty()) {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

std::string CurlResult::Header(std::string_view name) const { return FirstHeader(headers, name); }

nlohmann::json CurlResult::Json() const { return nlohmann::json::parse(body, nullptr, false); }

CurlResult RunCurl(const std::vector<std::string>& args, Millis timeout) {
  TempDir dir;
  const std::string body_path = dir.Path("body");
  const std::string header_path = dir.Path("headers");
  const auto seconds = std::max<Millis::rep>(1, (timeout.count() + 999) / 1000);
  std::vector<std::string> argv = {"curl",
                                   "-q",
                                   "-sS",
                                   "--noproxy",
                                   "*",
                                   "-o",
                                   body_path,
                                   "-D",
                                   header_path,
                                   "-w",
                                   "%{http_code}",
                                   "--max-time",
                                   std::to_string(seconds)};
  argv.insert(argv.end(), args.begin(), args.end());
  Process curl = Process::Spawn(argv);
  CurlResult result;
  const auto status = curl.Wait(timeout + Millis(5000));
  if (!status) {
    curl.Kill();
    result.stderr_text = "curl did not finish in time";
    return result;
  }
  result.exit_code = *status;
  result.stderr_text = curl.ReadStderr();
  const std::string code = curl.ReadStdout();
  result.status = code.empty() ? 0 : std::atoi(code.c_str());
  result.body = ReadFileOrEmpty(body_path);
  // The header file holds every response (100 Continue included); keep the last one's fields.
  std::istringstream lines(ReadFileOrEmpty(header_path));
  std::string line;
  while (std::getline(lines, line)) {
    const std::string_view l = Trim(line);
    if (l.substr(0, 5) == "HTTP/") {
      result.headers.clear();
    } else if (const size_t colon = l.find(':'); colon != std::string_view::npos) {
      result.headers.emplace(Lower(l.substr(0, colon)), std::string(Trim(l.substr(colon + 1))));
    }
  }
  return result;
}
}  // namespace sluice::testing

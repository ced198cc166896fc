// SPDX-License-Identifier: Apache-2.0
// sluice-echo: a single-threaded libuv + llhttp HTTP/1.1 upstream for the demo, the integration
// tests and the benchmarks. Usage: sluice-echo --listen HOST:PORT [--listen ...] [--name NAME]
// It prints "listening on HOST:PORT" per listener once all accept, and exits 0 on SIGTERM/SIGINT.
//
// Request bodies are streamed (counted and hashed with FNV-1a 64, never buffered). Endpoints, any
// method; HEAD gets the same head without a body:
//   /bench              fixed ~100-byte JSON, as fast as possible
//   /__stats            {"connections":N,"requests":N}; /__stats itself is not in "requests"
//   /status/CODE        that status (200..599) with {"status":CODE}
//   /delay/MS           the echo JSON after MS ms (a libuv timer)
//   /headers-delay/MS   nothing for MS ms, then the echo JSON
//   /bytes/N            N bytes with Content-Length, byte i = 'a' + i % 26, 64 KiB writes
//   /chunked/N          the same bytes in 64 KiB chunks (close-delimited for HTTP/1.0)
//   /close/N            the same bytes, close-delimited
//   /reset-mid          Content-Length 1000000, 1000 bytes, then an RST
//   /reset-now          an RST without any response
//   /garbage            "HTTP/1.1 abc\r\n\r\n", then close
//   /slow-read          reads the body 16 KiB per 200 ms, then the echo JSON
//   /close-after        200 with Connection: close, then close
//   anything else       200 {"service","method","path","query","http_version","headers",
//                       "body_bytes","body_fnv"}; ?sleep=MS delays it
// A bad number in a path or in ?sleep gets 400; a malformed request gets 400 and a close.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "examples/upstream/echo_connection.h"

namespace sluice::echo {
namespace {

template <typename T>
struct UvClose {
  void operator()(T* h) const noexcept {
    h->data = nullptr;  // no callback may reach a dead owner
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }
};

template <typename T>
using UvPtr = std::unique_ptr<T, UvClose<T>>;  // created only after a successful uv_*_init

struct Options {
  std::vector<std::string> listen;
  std::string name = "echo";
};

constexpr const char* kUsage =
    "usage: sluice-echo --listen HOST:PORT [--listen HOST:PORT]... [--name NAME]\n";

// Parses argv; returns false (after printing why) on a usage error.
bool ParseArgs(int argc, char** argv, Options& opts) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string_view value;
    std::string_view flag = arg;
    if (const size_t eq = arg.find('='); arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if ((arg == "--listen" || arg == "--name") && i + 1 < argc) {
      value = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "sluice-echo: unknown or incomplete argument '%s'\n%s", argv[i], kUsage);
      return false;
    }
    if (flag == "--listen") {
      opts.listen.emplace_back(value);
    } else if (flag == "--name") {
      opts.name.assign(value);
    } else {
      std::fprintf(stderr, "sluice-echo: unknown argument '%s'\n%s", argv[i], kUsage);
      return false;
    }
  }
  if (opts.listen.empty()) {
    std::fprintf(stderr, "sluice-echo: at least one --listen is required\n%s", kUsage);
    return false;
  }
  return true;
}

// Turns "HOST:PORT" or "[V6]:PORT" into a socket address.
bool ParseAddress(const std::string& text, sockaddr_storage& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return false;
  }
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const int port = std::stoi(port_text);
  if (port > 65535) {
    return false;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
  }
  if (host.empty() || host == "*") {
    host = "0.0.0.0";
  } else if (host == "localhost") {
    host = "127.0.0.1";
  }
  return uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0;
}

// "HOST:PORT" of a bound socket, with the port the kernel chose for port 0.
std::string BoundAddress(const uv_tcp_t& tcp) {
  sockaddr_storage addr{};
  int len = sizeof(addr);
  uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&addr), &len);
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(a6, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a6->sin6_port));
  }
  const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
  uv_ip4_name(a4, host, sizeof(host));
  return std::string(host) + ":" + std::to_string(ntohs(a4->sin_port));
}

// Everything main owns; Stop closes it all so that the loop ends and closes cleanly.
struct App {
  Server server;
  std::vector<UvPtr<uv_tcp_t>> listeners;
  std::vector<UvPtr<uv_signal_t>> signals;

  void Stop() {
    listeners.clear();
    signals.clear();
    Connection::CloseAll(server);
  }
};

void OnConnection(uv_stream_t* listener, int status) {
  if (status < 0 || listener->data == nullptr) {
    return;
  }
  Connection::Accept(*static_cast<Server*>(listener->data), listener);
}

void OnSignal(uv_signal_t* handle, int /*signum*/) {
  if (handle->data != nullptr) {
    static_cast<App*>(handle->data)->Stop();
  }
}

int Run(const Options& opts) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) {
    std::fputs("sluice-echo: cannot create the event loop\n", stderr);
    return 1;
  }
  int rc = 0;
  {
    App app;
    app.server.loop = &loop;
    app.server.name = opts.name;
    BuildCannedResponses(app.server);
    for (const std::string& text : opts.listen) {
      sockaddr_storage addr{};
      if (!ParseAddress(text, addr)) {
        std::fprintf(stderr, "sluice-echo: listen %s: not a HOST:PORT address\n", text.c_str());
        rc = 2;
        break;
      }
      auto tcp = std::make_unique<uv_tcp_t>();
      if (const int err = uv_tcp_init(&loop, tcp.get()); err != 0) {
        std::fprintf(stderr, "sluice-echo: listen %s: %s\n", text.c_str(), uv_strerror(err));
        rc = 1;
        break;
      }
      UvPtr<uv_tcp_t> listener(tcp.release());
      listener->data = &app.server;
      int err = uv_tcp_bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
      if (err == 0) {
        err = uv_listen(reinterpret_cast<uv_stream_t*>(listener.get()), 1024, OnConnection);
      }
      if (err != 0) {
        std::fprintf(stderr, "sluice-echo: listen %s: %s\n", text.c_str(), uv_strerror(err));
        rc = 1;
        break;
      }
      app.listeners.push_back(std::move(listener));
    }
    if (rc == 0) {
      for (const int signum : {SIGTERM, SIGINT}) {
        auto sig = std::make_unique<uv_signal_t>();
        uv_signal_init(&loop, sig.get());
        UvPtr<uv_signal_t> handle(sig.release());
        handle->data = &app;
        uv_signal_start(handle.get(), OnSignal, signum);
        app.signals.push_back(std::move(handle));
      }
      for (const auto& listener : app.listeners) {
        std::printf("listening on %s\n", BoundAddress(*listener).c_str());
      }
      std::fflush(stdout);
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    app.Stop();
  }
  // Runs the close callbacks of everything Stop closed.
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0) {
    std::fputs("sluice-echo: handles still open at exit\n", stderr);
    return 1;
  }
  return rc;
}

}  // namespace
}  // namespace sluice::echo

int main(int argc, char** argv) {
  // A peer that goes away mid-write must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  sluice::echo::Options opts;
  if (!sluice::echo::ParseArgs(argc, argv, opts)) {
    return 2;
  }
  return sluice::echo::Run(opts);
}

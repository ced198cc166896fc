// SPDX-License-Identifier: Apache-2.0
// cors in a real browser: headless Chromium loads a page from one loopback origin (a small
// server in this test) and calls the gateway, on another origin, with fetch(). The page posts
// which calls the browser let through back to its own origin; the test checks them against
// what CORS allows for each route's cors config (reference/kong.md §6). Skipped, with a
// message, only when Chromium is not installed (./dev installs it).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

// Serves GET /page.html and takes POST /report on 127.0.0.1 (one response per connection),
// from its own thread until destroyed.
class PageServer {
 public:
  PageServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 64) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("page server: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }

  ~PageServer() {
    stop_ = true;
    thread_.join();
    for (const Client& c : clients_)
      close(c.fd);
    close(fd_);
  }

  PageServer(const PageServer&) = delete;
  PageServer& operator=(const PageServer&) = delete;

  int port() const { return port_; }

  // What GET /page.html answers from now on.
  void SetPage(std::string page) {
    std::lock_guard<std::mutex> lock(mu_);
    page_ = std::move(page);
  }

  // The body of the first POST /report, or nullopt when none came within `timeout`.
  std::optional<std::string> WaitForReport(Millis timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return report_.has_value(); });
    return report_;
  }

 private:
  struct Client {
    int fd;
    std::string in;
  };

  void Run() {
    while (!stop_) {
      std::vector<pollfd> fds{{fd_, POLLIN, 0}};
      for (const Client& c : clients_)
        fds.push_back({c.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 100) <= 0)
        continue;
      if (fds[0].revents & POLLIN) {
        const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0)
          clients_.push_back({c, {}});
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0)
          continue;
        Client& c = clients_[i - 1];
        char buf[4096];
        const ssize_t n = read(c.fd, buf, sizeof buf);
        if (n > 0) {
          c.in.append(buf, static_cast<size_t>(n));
          if (!Complete(c.in))
            continue;
          Answer(c);
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || Complete(c.in)) {
          close(c.fd);
          c.fd = -1;
        }
      }
      std::erase_if(clients_, [](const Client& c) { return c.fd < 0; });
    }
  }

  // True once the head and the Content-Length bytes of body have arrived.
  static bool Complete(const std::string& in) {
    const size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    size_t want = 0;
    std::string head = in.substr(0, end);
    for (char& ch : head)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (size_t cl = head.find("\r\ncontent-length:"); cl != std::string::npos)
      want = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    return in.size() >= end + 4 + want;
  }

  void Answer(const Client& c) {
    const size_t end = c.in.find("\r\n\r\n");
    std::string status = "404 Not Found";
    std::string type = "text/plain";
    std::string body;
    if (c.in.rfind("GET /page.html ", 0) == 0) {
      status = "200 OK";
      type = "text/html; charset=utf-8";
      std::lock_guard<std::mutex> lock(mu_);
      body = page_;
    } else if (c.in.rfind("POST /report ", 0) == 0) {
      status = "204 No Content";
      std::lock_guard<std::mutex> lock(mu_);
      if (!report_)
        report_ = c.in.substr(end + 4);
      cv_.notify_all();
    }
    std::string out = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
                      "\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    // Small answers on a fresh socket: poll for room, bounded, rather than block.
    size_t off = 0;
    for (int tries = 0; off < out.size() && tries < 200; ++tries) {
      const ssize_t n = write(c.fd, out.data() + off, out.size() - off);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else {
        pollfd p{c.fd, POLLOUT, 0};
        poll(&p, 1, 10);
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::string page_;  // guarded by mu_
  std::vector<Client> clients_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> report_;
};

// Chromium in its own session (setsid), so the browser and every helper process it forks can
// be ended together through the process group this test created.
class Browser {
 public:
  Browser(const std::string& chromium, const std::string& url, const TempDir& profile)
      : process_(Process::Spawn({"setsid", chromium, "--headless=new", "--no-sandbox",
                                 "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                 "--no-default-browser-check", "--disable-extensions",
                                 "--disable-background-networking", "--disable-component-update",
                                 "--disable-sync", "--user-data-dir=" + profile.path(), url})) {}

  // SIGTERM to the whole group, then SIGKILL to whatever is left. The leader is waited for
  // without being reaped (WNOWAIT), so its group id cannot be reused before the SIGKILL.
  ~Browser() {
    const pid_t group = process_.Pid();
    if (group > 0) {
      kill(-group, SIGTERM);
      for (int i = 0; i < 500; ++i) {
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(group), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == group) {
          break;
        }
        std::this_thread::sleep_for(Millis(10));
      }
      kill(-group, SIGKILL);
    }
    process_.Kill();  // reaps the leader
  }

  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  Process& process() { return process_; }

 private:
  Process process_;
};

// The installed Chromium, or "" when there is none.
std::string FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (access(path, X_OK) == 0)
      return path;
  }
  return "";
}

constexpr const char* kGatewayConfig = R"yaml(_format_version: "3.0"
services:
  - name: main
    url: ${URL}
    routes:
      - name: allowed
        paths: ["/allowed"]
        plugins:
          - name: cors
            config:
              origins: ["${PAGE}", "http://other.example"]
              headers: ["X-Allowed"]
              methods: ["GET", "POST"]
              credentials: true
      - name: denied
        paths: ["/denied"]
        plugins:
          - name: cors
            config:
              origins: ["http://other.example", "(.*\\.)?another\\.example"]
      - name: nocreds
        paths: ["/nocreds"]
        plugins:
          - name: cors
            config:
              origins: ["${PAGE}", "http://other.example"]
      - name: star
        paths: ["/star"]
        plugins:
          - name: cors
)yaml";

// Each case: a name, a path on the gateway, fetch() options. The page reports "ok STATUS
// METHOD PATH X-ALLOWED" from the echoed JSON, or "blocked" when fetch() rejects.
constexpr const char* kPage = R"html(<!doctype html>
<html><body><pre id="out">running</pre><script>
const gw = "${GATEWAY}";
const cases = [
  ["allowed", "/allowed/simple", {}],
  ["denied", "/denied/simple", {}],
  ["star", "/star/simple", {}],
  ["star-credentials", "/star/creds", {credentials: "include"}],
  ["allowed-credentials", "/allowed/creds", {credentials: "include"}],
  ["nocreds-credentials", "/nocreds/creds", {credentials: "include"}],
  ["allowed-header", "/allowed/header", {headers: {"X-Allowed": "yes"}}],
  ["other-header", "/allowed/other", {headers: {"X-Other": "no"}}],
  ["put-not-allowed", "/allowed/put", {method: "PUT"}],
  ["denied-header", "/denied/header", {headers: {"X-Allowed": "yes"}}],
];
async function attempt(c) {
  try {
    const r = await fetch(gw + c[1], Object.assign({cache: "no-store"}, c[2]));
    const j = await r.json();
    return "ok " + r.status + " " + j.method + " " + j.path + " " + (j.headers["x-allowed"] || "-");
  } catch (e) {
    return "blocked";
  }
}
(async () => {
  const results = {};
  for (const c of cases) results[c[0]] = await attempt(c);
  document.getElementById("out").textContent = JSON.stringify(results);
  await fetch("/report", {method: "POST", body: JSON.stringify(results)});
})();
</script></body></html>
)html";

TEST_CASE("cors browser: Chromium lets through exactly what the cors config allows",
          "[integration][cors][browser]") {
  const std::string chromium = FindChromium();
  if (chromium.empty()) {
    WARN("chromium is not installed: skipping the browser test (./dev installs it)");
    return;
  }
  EchoServer echo;
  // The gateway's config names the page's origin and the page names the gateway's, so the page
  // server starts first and gets its page once the gateway is up.
  PageServer pages;
  const std::string page_origin = "http://127.0.0.1:" + std::to_string(pages.port());
  Sluice gw(Substitute(kGatewayConfig, {{"URL", echo.url()}, {"PAGE", page_origin}}));
  pages.SetPage(Substitute(kPage, {{"GATEWAY", "http://127.0.0.1:" + std::to_string(gw.port())}}));

  TempDir profile;
  std::optional<std::string> report;
  std::string browser_log;
  {
    Browser browser(chromium, page_origin + "/page.html", profile);
    report = pages.WaitForReport(Millis(90000));
    if (!report)
      browser_log = browser.process().ReadStderr();
  }
  INFO("chromium stderr: " << browser_log);
  REQUIRE(report.has_value());
  INFO("report: " << *report);
  const nlohmann::json j = nlohmann::json::parse(*report, nullptr, false);
  REQUIRE(j.is_object());
  auto result = [&j](const char* name) { return j.value(name, std::string("<missing>")); };
  // Allowed origins: the response reaches the script.
  CHECK(result("allowed") == "ok 200 GET /simple -");
  CHECK(result("star") == "ok 200 GET /simple -");
  CHECK(result("allowed-credentials") == "ok 200 GET /creds -");
  // A custom header the config allows: the preflight passes, the real request follows.
  CHECK(result("allowed-header") == "ok 200 GET /header yes");
  // An origin outside the list: no Access-Control-Allow-Origin, the browser blocks.
  CHECK(result("denied") == "blocked");
  CHECK(result("denied-header") == "blocked");
  // Credentials need Allow-Credentials and a non-'*' origin.
  CHECK(result("star-credentials") == "blocked");
  CHECK(result("nocreds-credentials") == "blocked");
  // A header or a method the preflight answer does not list.
  CHECK(result("other-header") == "blocked");
  CHECK(result("put-not-allowed") == "blocked");
  // Simple requests reach the upstream even when the browser hides the answer; requests
  // behind a failed preflight never leave the browser, and preflights stop at the gateway.
  CHECK(echo.GetStats().requests == 7);
}

}  // namespace
}  // namespace sluice::testing

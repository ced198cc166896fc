// SPDX-License-Identifier: Apache-2.0
// The demo end to end: examples/demo.sh starts its two upstreams and the gateway with
// examples/kong.yaml on free loopback ports and signs a token with openssl; every curl line it
// prints is then run as printed (in bash, with the printed TOKEN) and must get the status its
// comment states, plus a check of what the line is there to show.
#include <cctype>
#include <fstream>
#include <optional>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/harness.h"

namespace sluice::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Dirname(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Field 22 of /proc/PID/stat (start time in clock ticks), "" when the process is gone: tells a
// process from a later one that reuses its PID.
std::string StartTime(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos)
    return "";
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  return field;
}

// The children of PID (every thread's list).
std::vector<pid_t> Children(pid_t pid) {
  std::vector<pid_t> out;
  std::istringstream in(
      ReadFile("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  for (pid_t child; in >> child;)
    out.push_back(child);
  return out;
}

// examples/demo.sh running on free ports until destroyed. Stopping sends SIGTERM (its trap
// stops the upstreams and the gateway by PID and waits for them), then SIGKILLs any of those
// children that is still the same process, so nothing outlives a failed test.
class Demo {
 public:
  Demo() {
    const std::string bin = RequireEnv("SLUICE_BIN");
    REQUIRE(Dirname(RequireEnv("SLUICE_ECHO_BIN")) == Dirname(bin));  // demo.sh takes one dir
    proxy_port_ = FreePort();
    admin_port_ = FreePort();
    const int user_port = FreePort();
    const int order_port = FreePort();
    process_.emplace(Process::Spawn(
        {"bash", RequireEnv("SLUICE_SOURCE_DIR") + "/examples/demo.sh", Dirname(bin)},
        {"SLUICE_DEMO_LISTEN=127.0.0.1:" + std::to_string(proxy_port_),
         "SLUICE_DEMO_ADMIN=127.0.0.1:" + std::to_string(admin_port_),
         "SLUICE_DEMO_USER_PORT=" + std::to_string(user_port),
         "SLUICE_DEMO_ORDER_PORT=" + std::to_string(order_port)}));
    try {
      // demo.sh prints its curl lines (the last one is /metrics) once every port accepts.
      for (int i = 0; i < 600 && process_->Running(); ++i) {
        output_ = process_->ReadStdout();
        if (output_.find("/metrics") != std::string::npos)
          break;
        std::this_thread::sleep_for(Millis(50));
      }
      for (pid_t child : Children(process_->Pid()))
        children_.emplace_back(child, StartTime(child));
    } catch (...) {
      Stop();
      throw;
    }
  }

  ~Demo() { Stop(); }

  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  // True when demo.sh is still running and has printed its curl lines.
  bool Started() { return process_->Running() && output_.find("/metrics") != std::string::npos; }

  std::string Stderr() const { return process_->ReadStderr(); }

  const std::string& output() const { return output_; }

  int proxy_port() const { return proxy_port_; }

  int admin_port() const { return admin_port_; }

 private:
  void Stop() {
    process_->Signal(SIGTERM);
    process_->Wait(Millis(15000));
    for (const auto& [pid, start] : children_) {
      if (!start.empty() && StartTime(pid) == start)
        kill(pid, SIGKILL);
    }
    process_->Kill();
  }

  std::optional<Process> process_;
  std::string output_;
  std::vector<std::pair<pid_t, std::string>> children_;
  int proxy_port_ = 0;
  int admin_port_ = 0;
};

// One printed curl line: the command, the comment after " # ", and the status it states.
struct Line {
  std::string command;
  std::string comment;
  int status = 0;
};

// What running one printed line gave.
struct Outcome {
  int status = 0;
  Headers headers;   // of the response, names lower-cased
  std::string body;  // without the head that `curl -i` writes before it
  std::string stderr_text;
};

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(' ');
  const size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Runs `line` in bash as a user pasting it would, after TOKEN=token, with curl told to write the
// body and head to files and the status to stdout.
Outcome Run(const std::string& token, const Line& line) {
  TempDir dir;
  const std::string body_path = dir.Path("body");
  const std::string head_path = dir.Path("head");
  const std::string script = "TOKEN='" + token + "'\n" + line.command +
                             " -sS --max-time 10 -o \"$1\" -D \"$2\" -w '%{http_code}'\n";
  Process p = Process::Spawn({"bash", "-c", script, "bash", body_path, head_path});
  Outcome o;
  REQUIRE(p.Wait(Millis(20000)).has_value());
  o.stderr_text = p.ReadStderr();
  const std::string code = p.ReadStdout();
  o.status = code.empty() ? 0 : std::stoi(code);
  // The head file holds the status line, then the fields, then a blank line.
  std::istringstream head(ReadFile(head_path));
  std::string field;
  while (std::getline(head, field)) {
    if (!field.empty() && field.back() == '\r')
      field.pop_back();
    const size_t colon = field.find(':');
    if (colon == std::string::npos || field.rfind("HTTP/", 0) == 0)
      continue;
    std::string name = field.substr(0, colon);
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    o.headers.emplace(name, Trim(field.substr(colon + 1)));
  }
  o.body = ReadFile(body_path);
  if (o.body.rfind("HTTP/", 0) == 0) {  // curl -i: the head comes first
    const size_t end = o.body.find("\r\n\r\n");
    o.body = end == std::string::npos ? "" : o.body.substr(end + 4);
  }
  return o;
}

std::string HeaderOf(const Outcome& o, const std::string& name) {
  const auto it = o.headers.find(name);
  return it == o.headers.end() ? "" : it->second;
}

bool Contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}

TEST_CASE("demo: every curl line demo.sh prints gets the status it states", "[integration][demo]") {
  Demo demo;
  INFO("demo.sh printed:\n" << demo.output() << "\ndemo.sh stderr:\n" << demo.Stderr());
  REQUIRE(demo.Started());

  std::string token;
  std::vector<Line> lines;
  std::istringstream printed(demo.output());
  for (std::string text; std::getline(printed, text);) {
    text = Trim(text);
    if (text.rfind("TOKEN=", 0) == 0)
      token = text.substr(6);
    if (text.rfind("curl ", 0) != 0)
      continue;
    const size_t hash = text.find(" # ");
    REQUIRE(hash != std::string::npos);  // every line states its status
    Line line{Trim(text.substr(0, hash)), Trim(text.substr(hash + 3)), 0};
    REQUIRE(line.comment.size() >= 3);
    line.status = std::stoi(line.comment.substr(0, 3));
    lines.push_back(line);
  }
  REQUIRE(token.size() > 20);
  REQUIRE(lines.size() >= 8);

  const std::string proxy = "http://127.0.0.1:" + std::to_string(demo.proxy_port());
  const std::string admin = "http://127.0.0.1:" + std::to_string(demo.admin_port());
  int unauthorized = 0, authorized = 0, preflights = 0, metrics = 0;
  for (const Line& line : lines) {
    const Outcome o = Run(token, line);
    INFO(line.command << "  # " << line.comment << "\ngot " << o.status << "\n"
                      << o.stderr_text << o.body.substr(0, 2000));
    // Each line names the ports the demo really listens on.
    CHECK((Contains(line.command, proxy) || Contains(line.command, admin)));
    REQUIRE(o.status == line.status);

    const bool bearer = Contains(line.command, "Bearer $TOKEN");
    if (line.status == 401) {
      ++unauthorized;
      CHECK(HeaderOf(o, "content-type") == "application/json; charset=utf-8");
      CHECK(Contains(o.body, "\"message\""));
      CHECK(Contains(HeaderOf(o, "www-authenticate"), "Bearer"));
    }
    if (bearer && line.status == 200) {
      ++authorized;
      // jwt let alice in, rate-limiting counted her, cors answered for everything.
      const nlohmann::json echo = nlohmann::json::parse(o.body, nullptr, false);
      REQUIRE(echo.is_object());
      CHECK(echo["headers"]["x-consumer-username"] == "alice");
      CHECK(echo["headers"]["x-credential-identifier"] == "alice-issuer");
      CHECK_FALSE(HeaderOf(o, "x-ratelimit-remaining-minute").empty());
      CHECK_FALSE(HeaderOf(o, "ratelimit-limit").empty());
      CHECK(HeaderOf(o, "access-control-allow-origin") == "http://localhost:3000");
      if (Contains(line.command, "/api/users")) {
        CHECK(echo["service"] == "user-service");
        CHECK(HeaderOf(o, "x-ratelimit-limit-minute") == "60");
      }
      if (Contains(line.command, "/api/orders/17")) {
        // strip_path, then request-transformer: renamed and added arguments, an added header.
        CHECK(echo["service"] == "order-service");
        CHECK(echo["path"] == "/v1/17");
        CHECK(echo["query"] == "include=items&source=gateway");
        CHECK(echo["headers"]["x-gateway"] == "sluice");
      }
    }
    if (Contains(line.command, "Access-Control-Request-Method")) {
      ++preflights;
      CHECK(HeaderOf(o, "access-control-allow-origin") == "http://localhost:3000");
      CHECK(HeaderOf(o, "access-control-allow-credentials") == "true");
      CHECK(HeaderOf(o, "access-control-max-age") == "3600");
      CHECK(o.body.empty());
    }
    if (Contains(line.command, admin + "/metrics")) {
      ++metrics;
      CHECK(Contains(o.body, "kong_http_requests_total{"));
      CHECK(Contains(o.body, "code=\"401\""));
      CHECK(Contains(o.body, "kong_request_latency_ms_bucket{"));
    }
  }
  // The demo shows each of these at least once.
  CHECK(unauthorized >= 1);
  CHECK(authorized >= 3);
  CHECK(preflights == 1);
  CHECK(metrics == 1);
}

}  // namespace
}  // namespace sluice::testing

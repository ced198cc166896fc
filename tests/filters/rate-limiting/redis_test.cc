// SPDX-License-Identifier: Apache-2.0
// rate-limiting's Redis side against a real redis-server: RESP through hiredis's encoder and
// reader, then RedisClient on the host's async TCP and timers (the real core host on a test loop):
// pipelining, AUTH and SELECT, refusals, timeouts, reconnects and cancelled batches.
#include "tests/support/redis.h"

#include <arpa/inet.h>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "core/filter_host/filter_host.h"
#include "core/filter_host/worker_host.h"
#include "rate-limiting/redis_client.h"
#include "rate-limiting/resp.h"

namespace sluice::filters::rate_limiting {
namespace {

using sluice::testing::RedisServer;

// Sends `bytes` on a blocking connection and reads until `replies` replies were decoded, feeding
// the reader one byte at a time (replies split anywhere must still decode).
std::vector<Reply> RoundTrip(int port, const std::string& bytes, size_t replies) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(send(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
  ReplyReader reader;
  std::vector<Reply> out;
  char buf[512];
  while (out.size() < replies) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; ++i) {
      REQUIRE(reader.Feed(buf + i, 1));
      while (Reply r = reader.Next())
        out.push_back(std::move(r));
    }
  }
  close(fd);
  CHECK_FALSE(reader.failed());
  return out;
}

TEST_CASE("rate-limiting resp: commands and replies round-trip through redis-server",
          "[filters][rate-limiting][redis]") {
  RedisServer redis;
  std::string cmds;
  REQUIRE(AppendCommand(&cmds, {"INCRBY", "ratelimit:a:b:1.2.3.4:0:minute", "1"}));
  REQUIRE(AppendCommand(&cmds, {"INCRBY", "ratelimit:a:b:1.2.3.4:0:minute", "1"}));
  REQUIRE(AppendCommand(&cmds, {"EXPIRE", "ratelimit:a:b:1.2.3.4:0:minute", "60"}));
  REQUIRE(AppendCommand(&cmds, {"SET", std::string("bin\0\r\nkey", 9), "v"}));
  REQUIRE(AppendCommand(&cmds, {"NOSUCHCOMMAND"}));
  CHECK(cmds.rfind("*3\r\n$6\r\nINCRBY\r\n$30\r\nratelimit:a:b:1.2.3.4:0:minute\r\n$1\r\n1\r\n",
                   0) == 0);
  std::vector<Reply> r = RoundTrip(redis.port(), cmds, 5);
  REQUIRE(r.size() == 5);
  CHECK(Inspect(*r[0]).type == ReplyView::Type::kInteger);
  CHECK(Inspect(*r[0]).integer == 1);
  CHECK(Inspect(*r[1]).integer == 2);
  CHECK(Inspect(*r[2]).integer == 1);
  CHECK(Inspect(*r[3]).type == ReplyView::Type::kStatus);
  CHECK(Inspect(*r[3]).text == "OK");
  CHECK(Inspect(*r[4]).type == ReplyView::Type::kError);
  CHECK(Inspect(*r[4]).text.rfind("ERR unknown command", 0) == 0);
  CHECK(redis.Command({"TTL", "ratelimit:a:b:1.2.3.4:0:minute"}) == ":60\r\n");
  CHECK(redis.Command({"EXISTS", std::string("bin\0\r\nkey", 9)}) == ":1\r\n");
}

TEST_CASE("rate-limiting resp: a protocol error is reported, not guessed",
          "[filters][rate-limiting]") {
  ReplyReader reader;
  REQUIRE(reader.Feed("!garbage\r\n", 10));
  CHECK(reader.Next() == nullptr);
  CHECK(reader.failed());
}

// The real host (async TCP, timers) on a loop owned by the test thread.
class HostLoop {
 public:
  HostLoop() {
    static filter_host::FilterHost* host = new filter_host::FilterHost();  // process-wide
    api_ = &host->api();
    REQUIRE(uv_loop_init(&loop_) == 0);
    worker_ = std::make_unique<filter_host::WorkerHost>(&loop_, 0);
  }

  ~HostLoop() {
    client.reset();
    worker_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }

  void Connect(const RedisOptions& options) {
    client = std::make_unique<RedisClient>(api_, reinterpret_cast<sluice_worker*>(worker_.get()),
                                           options);
  }

  struct Result {
    bool done = false;
    bool ok = false;
    std::vector<long long> integers;  // per reply: the integer, or -999 for anything else
    std::vector<std::string> texts;   // per reply: status, error or bulk text
    std::string error;
  };

  static void OnDone(void* ctx, bool ok, const Reply* replies, size_t count,
                     std::string_view error) {
    auto* r = static_cast<Result*>(ctx);
    r->done = true;
    r->ok = ok;
    r->error = std::string(error);
    for (size_t i = 0; i < count; ++i) {
      const redisReply& rep = *replies[i];
      r->integers.push_back(rep.type == REDIS_REPLY_INTEGER ? rep.integer : -999);
      r->texts.emplace_back(rep.str != nullptr ? std::string(rep.str, rep.len) : "");
    }
  }

  // Sends one batch and runs the loop until its Done ran (bounded at 10 s).
  Result Run(std::initializer_list<std::initializer_list<std::string_view>> commands) {
    Result r;
    std::string bytes;
    for (auto c : commands)
      REQUIRE(AppendCommand(&bytes, c));
    REQUIRE(client->Send(bytes, commands.size(), &HostLoop::OnDone, &r) != 0);
    const uint64_t deadline = uv_hrtime() + 10'000'000'000ull;
    while (!r.done && uv_hrtime() < deadline)
      uv_run(&loop_, UV_RUN_ONCE);
    REQUIRE(r.done);
    return r;
  }

  void Turns(int n) {
    for (int i = 0; i < n; ++i) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      usleep(1000);
    }
  }

  std::unique_ptr<RedisClient> client;

 private:
  const sluice_host_api* api_ = nullptr;
  uv_loop_t loop_;
  std::unique_ptr<filter_host::WorkerHost> worker_;
};

RedisOptions Options(int port) {
  RedisOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.timeout_ms = 2000;
  return o;
}

TEST_CASE("rate-limiting redis client: pipelined INCRBY and EXPIRE, in order",
          "[filters][rate-limiting][redis]") {
  RedisServer redis;
  HostLoop h;
  RedisOptions o = Options(redis.port());
  o.host = "localhost";  // resolved by the host without blocking
  h.Connect(o);
  HostLoop::Result first = h.Run({{"INCRBY", "k", "1"}, {"EXPIRE", "k", "30"}});
  CHECK(first.ok);
  CHECK(first.integers == std::vector<long long>{1, 1});
  HostLoop::Result second = h.Run({{"INCRBY", "k", "1"}, {"EXPIRE", "k", "30"}});
  CHECK(second.integers == std::vector<long long>{2, 1});
  CHECK(redis.Command({"GET", "k"}) == "$1\r\n2\r\n");
  CHECK(redis.Command({"TTL", "k"}) == ":30\r\n");
  CHECK(h.client->in_flight() == 0);
}

TEST_CASE("rate-limiting redis client: AUTH and SELECT on every new connection",
          "[filters][rate-limiting][redis]") {
  RedisServer redis({"--requirepass", "s3cret"});
  HostLoop h;
  RedisOptions o = Options(redis.port());
  o.password = "s3cret";
  o.database = 3;
  SECTION("right password") {
    h.Connect(o);
    HostLoop::Result r = h.Run({{"INCRBY", "k", "5"}, {"CLIENT", "INFO"}});
    REQUIRE(r.ok);
    CHECK(r.integers[0] == 5);
    CHECK(r.texts[1].find(" db=3 ") != std::string::npos);
  }
  SECTION("wrong password fails the batch") {
    o.password = "wrong";
    h.Connect(o);
    HostLoop::Result r = h.Run({{"INCRBY", "k", "1"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error.rfind("AUTH/SELECT refused: WRONGPASS", 0) == 0);
  }
}

TEST_CASE("rate-limiting redis client: failures, timeouts and reconnects",
          "[filters][rate-limiting][redis]") {
  RedisServer redis;
  HostLoop h;
  RedisOptions o = Options(redis.port());
  o.timeout_ms = 200;
  h.Connect(o);
  REQUIRE(h.Run({{"INCRBY", "k", "1"}}).ok);

  SECTION("the server drops the connection: the next batch reconnects") {
    CHECK(redis.Command({"CLIENT", "KILL", "TYPE", "normal"}) == ":1\r\n");
    h.Turns(20);  // the host reports the close
    HostLoop::Result r = h.Run({{"INCRBY", "k", "1"}});
    CHECK(r.ok);
    CHECK(r.integers == std::vector<long long>{2});
  }
  SECTION("a server that does not answer in time") {
    CHECK(redis.Command({"CLIENT", "PAUSE", "1500", "ALL"}) == "+OK\r\n");
    HostLoop::Result r = h.Run({{"INCRBY", "k", "1"}});
    CHECK_FALSE(r.ok);
    CHECK(r.error == "timeout after 200 ms");
  }
  SECTION("a cancelled batch's replies are read and dropped, later ones still match") {
    HostLoop::Result cancelled;
    std::string bytes;
    REQUIRE(AppendCommand(&bytes, {"INCRBY", "k", "10"}));
    uint64_t ticket = h.client->Send(bytes, 1, &HostLoop::OnDone, &cancelled);
    REQUIRE(ticket != 0);
    h.client->Cancel(ticket);
    HostLoop::Result r = h.Run({{"INCRBY", "k", "1"}});
    CHECK(r.integers == std::vector<long long>{12});
    CHECK_FALSE(cancelled.done);
  }
  SECTION("the server is gone") {
    redis.Stop();
    h.Turns(20);
    HostLoop::Result r = h.Run({{"INCRBY", "k", "1"}});
    CHECK_FALSE(r.ok);
    CHECK((r.error == "connect failed" || r.error == "connection closed"));
  }
}

}  // namespace
}  // namespace sluice::filters::rate_limiting

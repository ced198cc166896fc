// SPDX-License-Identifier: Apache-2.0
// The Redis protocol through hiredis, without its sockets: commands are encoded with
// redisFormatCommandArgv and replies decoded with a redisReader, so the bytes can travel over the
// host's async TCP (tcp_*) on the worker's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

struct redisReader;
struct redisReply;

namespace sluice::filters::rate_limiting {

// Appends the RESP encoding of one command ("INCRBY", key, "1"); false when out of memory.
bool AppendCommand(std::string* out, std::initializer_list<std::string_view> args);

struct ReplyFree {
  void operator()(redisReply* r) const noexcept;
};

using Reply = std::unique_ptr<redisReply, ReplyFree>;

// A reply's shape, enough for the rate limiter: an integer, a status ("OK"), an error, or
// anything else.
struct ReplyView {
  enum class Type { kInteger, kStatus, kError, kOther } type = Type::kOther;
  long long integer = 0;
  std::string_view text;  // status or error text
};

ReplyView Inspect(const redisReply& r);

// Incremental reply decoder.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Buffers bytes from the server; false when out of memory or after a protocol error.
  bool Feed(const char* data, size_t len);

  // The next complete reply; null when more bytes are needed or on a protocol error (failed()).
  Reply Next();

  bool failed() const { return failed_; }

 private:
  redisReader* reader_;
  bool failed_ = false;
};

}  // namespace sluice::filters::rate_limiting

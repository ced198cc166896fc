// SPDX-License-Identifier: Apache-2.0
#include "rate-limiting/resp.h"

#include <cstdlib>

#include <hiredis/hiredis.h>

namespace sluice::filters::rate_limiting {

bool AppendCommand(std::string* out, std::initializer_list<std::string_view> args) {
  const char* argv[8];
  size_t lens[8];
  int argc = 0;
  for (std::string_view a : args) {
    if (argc == 8)
      return false;
    argv[argc] = a.data();
    lens[argc] = a.size();
    ++argc;
  }
  char* cmd = nullptr;
  int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
  if (n < 0 || cmd == nullptr)
    return false;
  out->append(cmd, static_cast<size_t>(n));
  redisFreeCommand(cmd);
  return true;
}

void ReplyFree::operator()(redisReply* r) const noexcept { freeReplyObject(r); }

ReplyView Inspect(const redisReply& r) {
  ReplyView v;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      v.type = ReplyView::Type::kInteger;
      v.integer = r.integer;
      break;
    case REDIS_REPLY_STATUS:
      v.type = ReplyView::Type::kStatus;
      v.text = std::string_view(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = ReplyView::Type::kError;
      v.text = std::string_view(r.str, r.len);
      break;
    default:
      break;
  }
  return v;
}

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) { failed_ = reader_ == nullptr; }

ReplyReader::~ReplyReader() {
  if (reader_ != nullptr)
    redisReaderFree(reader_);
}

bool ReplyReader::Feed(const char* data, size_t len) {
  if (failed_ || redisReaderFeed(reader_, data, len) != REDIS_OK)
    failed_ = true;
  return !failed_;
}

Reply ReplyReader::Next() {
  if (failed_)
    return nullptr;
  void* reply = nullptr;
  if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
    failed_ = true;
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(reply));
}

}  // namespace sluice::filters::rate_limiting

// SPDX-License-Identifier: Apache-2.0
// Fixed-size I/O buffers recycled per worker, so connections hold a read buffer only while they
// have bytes in flight and steady-state traffic allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace sluice {

// Single-threaded: one pool per worker loop.
class BufferPool {
 public:
  static constexpr size_t kBufferSize = 32 * 1024;

  explicit BufferPool(size_t max_cached = 1024) : max_cached_(max_cached) {}

  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  ~BufferPool() {
    for (char* b : free_)
      delete[] b;
  }

  // A buffer of kBufferSize bytes, owned by the caller until Put().
  char* Get() {
    if (free_.empty())
      return new char[kBufferSize];
    char* b = free_.back();
    free_.pop_back();
    return b;
  }

  void Put(char* b) {
    if (free_.size() >= max_cached_) {
      delete[] b;
      return;
    }
    free_.push_back(b);
  }

 private:
  size_t max_cached_;
  std::vector<char*> free_;
};

}  // namespace sluice

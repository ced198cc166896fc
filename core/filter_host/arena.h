// SPDX-License-Identifier: Apache-2.0
// A bump allocator for one request: filters' arena_alloc, copied header names and values,
// per-filter slots. Reset at request end keeps its first block, so steady-state requests reuse
// memory instead of calling malloc. Not thread-safe: lives on the request's worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/string_view.h"

namespace sluice::filter_host {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  ~Arena() { FreeAll(); }

  // Returns `size` bytes aligned to `align` (a power of two, at most 64), or nullptr when out
  // of memory or `align` is invalid. Memory lives until Reset.
  void* Allocate(size_t size, size_t align) {
    if (align == 0 || align > 64 || (align & (align - 1)) != 0)
      return nullptr;
    if (size == 0)
      size = 1;
    if (head_ != nullptr) {
      uintptr_t p = (reinterpret_cast<uintptr_t>(head_->data()) + used_ + align - 1) & ~(align - 1);
      size_t offset = p - reinterpret_cast<uintptr_t>(head_->data());
      if (offset + size <= head_->capacity) {
        used_ = offset + size;
        return reinterpret_cast<void*>(p);
      }
    }
    size_t capacity = size + align > kBlockSize ? size + align : kBlockSize;
    auto* block = static_cast<Block*>(std::malloc(sizeof(Block) + capacity));
    if (block == nullptr)
      return nullptr;
    block->capacity = capacity;
    block->next = head_;
    head_ = block;
    used_ = 0;
    return Allocate(size, align);
  }

  // Copies `s` into the arena; an empty view for empty input or when out of memory.
  absl::string_view Copy(absl::string_view s) {
    if (s.empty())
      return {};
    char* p = static_cast<char*>(Allocate(s.size(), 1));
    if (p == nullptr)
      return {};
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }

  // Frees everything but the oldest block, which is kept for the next request.
  void Reset() {
    while (head_ != nullptr && head_->next != nullptr) {
      Block* next = head_->next;
      std::free(head_);
      head_ = next;
    }
    used_ = 0;
  }

 private:
  static constexpr size_t kBlockSize = 4096 - 64;

  // A block header followed by `capacity` bytes (alignment is computed per allocation).
  struct Block {
    Block* next;
    size_t capacity;

    unsigned char* data() { return reinterpret_cast<unsigned char*>(this + 1); }
  };

  void FreeAll() {
    while (head_ != nullptr) {
      Block* next = head_->next;
      std::free(head_);
      head_ = next;
    }
  }

  Block* head_ = nullptr;
  size_t used_ = 0;
};

}  // namespace sluice::filter_host

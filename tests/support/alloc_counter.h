// SPDX-License-Identifier: Apache-2.0
// Counts heap allocations (malloc and operator new, from any library) through the sanitizer's
// allocation hook, for tests that prove a hot path allocates nothing. Only ASan builds can count
// (how the suite runs, `./dev test`); elsewhere Install() is false and such tests skip.
#pragma once

#include <atomic>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
// From <sanitizer/allocator_interface.h>, which Debian's g++ does not ship.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace sluice::alloc_count {

inline std::atomic<long> allocations{0};

// Installs the counting hook once; false when this build cannot count.
inline bool Install() {
#if defined(__SANITIZE_ADDRESS__)
  static const bool installed = __sanitizer_install_malloc_and_free_hooks(
                                    [](const volatile void*, size_t) { allocations.fetch_add(1); },
                                    [](const volatile void*) {}) != 0;
  return installed;
#else
  return false;
#endif
}

// Allocations so far, in every thread.
inline long Count() { return allocations.load(); }

}  // namespace sluice::alloc_count

// SPDX-License-Identifier: Apache-2.0
// Ownership for libuv handles: memory may be freed only in the close callback, so a handle is
// owned by a unique_ptr whose deleter calls uv_close and frees it there.
#pragma once

#include <memory>

#include <uv.h>

namespace sluice::loop {

template <typename T>
struct UvClose {
  void operator()(T* h) const noexcept {
    h->data = nullptr;  // no callback may reach a dead owner
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }
};

// Create only after a successful uv_*_init.
template <typename T>
using UvPtr = std::unique_ptr<T, UvClose<T>>;

// Milliseconds on the loop's cached monotonic clock.
inline uint64_t NowMs(uv_loop_t* loop) { return uv_now(loop); }

}  // namespace sluice::loop

// SPDX-License-Identifier: Apache-2.0
// Driving a libuv loop from a test until a condition holds.
#pragma once

#include <chrono>

#include <uv.h>

namespace sluice::testing {

// Runs `loop` until done() holds or `limit` passes; returns done(). A repeating guard timer
// keeps UV_RUN_ONCE from blocking past the deadline.
template <typename Done>
bool RunUntil(uv_loop_t* loop, Done done, std::chrono::milliseconds limit) {
  uv_timer_t guard;
  uv_timer_init(loop, &guard);
  uv_timer_start(
      &guard, [](uv_timer_t*) {}, 50, 50);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return done();
}

}  // namespace sluice::testing

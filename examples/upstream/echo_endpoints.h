// SPDX-License-Identifier: Apache-2.0
// The endpoints of sluice-echo: how a request target maps to a behaviour, plus the small pure
// helpers (FNV-1a, JSON strings, reason phrases, the generated body pattern) its answers use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::echo {

// What a request asks for; see the README table in echo_server.cc for each behaviour.
enum class Endpoint {
  kEcho,          // any other path: the request described as JSON
  kBench,         // /bench
  kStats,         // /__stats
  kStatus,        // /status/CODE
  kDelay,         // /delay/MS
  kBytes,         // /bytes/N
  kChunked,       // /chunked/N
  kClose,         // /close/N
  kResetMid,      // /reset-mid
  kResetNow,      // /reset-now
  kGarbage,       // /garbage
  kHeadersDelay,  // /headers-delay/MS
  kSlowRead,      // /slow-read
  kCloseAfter,    // /close-after
  kBadArgument,   // a known endpoint whose number is missing or out of range
};

// A parsed request target. `path` and `query` are views into the string given to ParseTarget.
struct Target {
  Endpoint endpoint = Endpoint::kEcho;
  uint64_t number = 0;     // CODE, MS or N for the endpoints that take one
  uint64_t sleep_ms = 0;   // `?sleep=MS` on the echo endpoint, 0 when absent
  std::string_view path;   // raw target up to the first '?'
  std::string_view query;  // after the first '?', empty when there is none
};

// Largest accepted MS for /delay, /headers-delay and ?sleep (one hour).
inline constexpr uint64_t kMaxDelayMs = 3'600'000;
// Largest accepted N for /bytes, /chunked and /close (1 TiB: streamed, never buffered).
inline constexpr uint64_t kMaxBytes = uint64_t{1} << 40;

// Maps a raw request target (origin form, as sent) to an endpoint. Never fails: an unknown path
// is kEcho and a malformed number on a known endpoint is kBadArgument.
Target ParseTarget(std::string_view raw_target);

// 64-bit FNV-1a over a byte stream, fed piece by piece.
class Fnv1a64 {
 public:
  void Update(const char* data, size_t len) {
    for (size_t i = 0; i < len; ++i) {
      hash_ ^= static_cast<unsigned char>(data[i]);
      hash_ *= 0x100000001b3ULL;
    }
  }

  // 16 lower-case hex digits, zero-padded ("cbf29ce484222325" for no bytes).
  std::string Hex() const;

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Appends `s` to `out` as a JSON string literal, quotes included. Bytes >= 0x80 pass unchanged.
void AppendJsonString(std::string& out, std::string_view s);

// ASCII helpers for header names and values.
char AsciiLower(char c);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view TrimOws(std::string_view s);  // strips SP and HTAB at both ends

// The usual reason phrase for `status`, or "Unknown".
const char* ReasonPhrase(int status);

// Generated bodies: byte i of every /bytes, /chunked, /close and /reset-mid body is 'a' + i % 26.
inline constexpr size_t kPieceSize = 64 * 1024;

// Returns p such that p[0, len) is the pattern at [offset, offset + len) for any len <= kPieceSize.
// The memory is static and lives for the whole program.
const char* PatternAt(uint64_t offset);

}  // namespace sluice::echo

// SPDX-License-Identifier: Apache-2.0
// The consistent-hashing key of a request, from Kong's hash_on / hash_fallback (none, consumer,
// ip, header, cookie, path, query_arg, uri_capture), and the stable hash the ring uses.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

#include "core/config/config.h"
#include "core/http/header_map.h"
#include "core/router/router.h"

namespace sluice::balancer {

// What the proxy knows about a request, as borrowed views valid for the Pick call only. Any
// field may be left empty / null; a source that finds nothing yields an empty key.
struct RequestFacts {
  absl::string_view consumer_id;  // the authenticated consumer's id; empty when anonymous
  absl::string_view client_ip;    // textual address, no port (what Kong's `ip` hashes)
  absl::string_view path;         // normalised request path, no query
  absl::string_view query;        // raw query string, without the '?'
  const http::HeaderMap* headers = nullptr;
  const router::MatchResult* match = nullptr;  // for uri_capture
};

// One of hash_on / hash_fallback with the name it needs (header, cookie, query arg, capture).
struct HashSource {
  enum class Kind : uint8_t {
    kNone,
    kConsumer,
    kIp,
    kHeader,
    kCookie,
    kPath,
    kQueryArg,
    kUriCapture
  };
  Kind kind = Kind::kNone;
  std::string name;

  // From Kong's field values; an unknown value is kNone (the loader rejects those anyway).
  static HashSource Primary(const config::Upstream& u);
  static HashSource Fallback(const config::Upstream& u);
};

// The key `src` finds in `facts`: a view into the request (never allocated); empty when the
// source is none or the request lacks it. Header: the first field of that name. Cookie: the
// first cookie of that name. Query arg: the raw (undecoded) value of the first occurrence.
absl::string_view KeyFor(const HashSource& src, const RequestFacts& facts);

// A 64-bit hash that is the same in every process and on every run: ring positions must not
// move when sluice restarts, or every key would be remapped by a deploy. (absl::Hash is salted
// per process, so it cannot serve here; CityHash64 is a fixed algorithm that abseil ships.)
uint64_t StableHash64(absl::string_view data);

}  // namespace sluice::balancer

// SPDX-License-Identifier: Apache-2.0
// What cors does to a response, as a list of header operations (Kong's handler.lua, reference/
// kong.md §6.2-6.4): the preflight reply's headers and the headers added to normal responses.
// Pure: the handler applies the plan through the SDK, the unit tests read it directly.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "schema.h"

namespace sluice::filters::cors {

struct HeaderOp {
  enum class Kind { kSet, kAdd, kRemove };
  Kind kind = Kind::kSet;
  std::string_view name;
  std::string_view value;  // views into the Config, the request or the plan's own storage
};

// An ordered list of header operations. Not copyable: values may point into its own storage.
class HeaderPlan {
 public:
  HeaderPlan() = default;
  HeaderPlan(const HeaderPlan&) = delete;
  HeaderPlan& operator=(const HeaderPlan&) = delete;

  void Set(std::string_view name, std::string_view value) {
    Push(HeaderOp::Kind::kSet, name, value);
  }

  void Add(std::string_view name, std::string_view value) {
    Push(HeaderOp::Kind::kAdd, name, value);
  }

  void Remove(std::string_view name) { Push(HeaderOp::Kind::kRemove, name, {}); }

  // Keeps `value` for the plan's lifetime (one value per plan: the matched origin).
  std::string_view Keep(std::string value) {
    kept_ = std::move(value);
    return kept_;
  }

  const HeaderOp* begin() const { return ops_.data(); }

  const HeaderOp* end() const { return ops_.data() + size_; }

  size_t size() const { return size_; }

  // The fields an empty header map holds after the plan ran (set replaces every field of that
  // name, case-insensitively; add appends; remove drops), in order. For the preflight reply.
  std::vector<std::pair<std::string_view, std::string_view>> Resolve() const;

 private:
  static constexpr size_t kMaxOps = 16;  // a plan never exceeds 9 operations

  void Push(HeaderOp::Kind kind, std::string_view name, std::string_view value) {
    if (size_ < kMaxOps)
      ops_[size_++] = HeaderOp{kind, name, value};
  }

  std::array<HeaderOp, kMaxOps> ops_{};
  size_t size_ = 0;
  std::string kept_;
};

// The request fields cors reads; nullopt when the header is absent. Views are borrowed.
struct RequestFacts {
  std::string_view method;
  std::optional<std::string_view> origin;
  std::optional<std::string_view> request_method;           // Access-Control-Request-Method
  std::optional<std::string_view> request_headers;          // Access-Control-Request-Headers
  std::optional<std::string_view> request_private_network;  // ...-Request-Private-Network
};

// Kong's test: OPTIONS with an Origin and an Access-Control-Request-Method header (issue #8978).
bool IsPreflight(const RequestFacts& request);

// The headers of the 200 preflight reply (Kong's access handler, without preflight_continue).
void PlanPreflight(const Config& config, const RequestFacts& request, HeaderPlan* plan);

// The operations on a normal response (Kong's header_filter); leaves the plan empty when the
// request has no Origin and allow_origin_absent is false.
void PlanResponse(const Config& config, std::optional<std::string_view> origin, HeaderPlan* plan);

}  // namespace sluice::filters::cors

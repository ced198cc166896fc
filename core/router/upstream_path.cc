// SPDX-License-Identifier: Apache-2.0
// BuildUpstreamPath: Kong's get_upstream_uri (path_handling v0) and the traditional router's v1
// concatenation (reference/kong.md §2.5).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "core/router/router.h"

namespace sluice::router {
namespace {

// Kong's sanitize_uri_postfix: a remainder that starts with a dot segment loses it, so
// `/route./req` (matched by the prefix `/route`) joins as `req`, not `./req`.
absl::string_view SanitizePostfix(absl::string_view postfix) {
  if (postfix == "." || postfix == "..") {
    return {};
  }
  if (absl::StartsWith(postfix, "./")) {
    return postfix.substr(2);
  }
  if (absl::StartsWith(postfix, "../")) {
    return postfix.substr(3);
  }
  return postfix;
}

void BuildV0(absl::string_view base, bool strip, absl::string_view path, absl::string_view postfix,
             std::string* out) {
  if (base.back() == '/') {
    if (!strip) {
      // Keep the whole request path, minus its leading '/', under the service path.
      absl::StrAppend(out, base, path.substr(1));
    } else if (postfix.empty()) {
      if (base == "/" || path.back() == '/') {
        absl::StrAppend(out, base);
      } else {
        absl::StrAppend(out, base.substr(0, base.size() - 1));
      }
    } else if (postfix.front() == '/') {
      absl::StrAppend(out, base.substr(0, base.size() - 1), postfix);
    } else {
      absl::StrAppend(out, base, postfix);
    }
    return;
  }
  if (!strip) {
    if (path == "/") {
      absl::StrAppend(out, base);
    } else {
      absl::StrAppend(out, base, path);
    }
  } else if (postfix.empty()) {
    absl::StrAppend(out, base, path.size() > 1 && path.back() == '/' ? "/" : "");
  } else if (postfix.front() == '/') {
    absl::StrAppend(out, base, postfix);
  } else {
    absl::StrAppend(out, base, "/", postfix);
  }
}

void BuildV1(absl::string_view base, bool strip, absl::string_view path, absl::string_view postfix,
             std::string* out) {
  if (!strip) {
    absl::StrAppend(out, base, path.substr(1));
  } else if (base.back() == '/' && !postfix.empty() && postfix.front() == '/') {
    absl::StrAppend(out, base.substr(0, base.size() - 1), postfix);
  } else {
    absl::StrAppend(out, base, postfix);
  }
}

}  // namespace

void BuildUpstreamPath(absl::string_view service_path, bool strip_path,
                       absl::string_view path_handling, absl::string_view request_path,
                       absl::string_view matched_prefix, std::string* out) {
  out->clear();
  absl::string_view base = service_path.empty() ? absl::string_view("/") : service_path;
  absl::string_view path = request_path.empty() ? absl::string_view("/") : request_path;
  // What follows the stripped prefix; with nothing to strip (strip_path off, or a route
  // without paths) it is the path without its leading '/', as in Kong.
  absl::string_view postfix = path.substr(1);
  if (strip_path && !matched_prefix.empty() && absl::StartsWith(path, matched_prefix)) {
    postfix = path.substr(matched_prefix.size());
  }
  postfix = SanitizePostfix(postfix);
  if (path_handling == "v1") {
    BuildV1(base, strip_path, path, postfix, out);
  } else {
    BuildV0(base, strip_path, path, postfix, out);
  }
}

}  // namespace sluice::router

// SPDX-License-Identifier: Apache-2.0
// Path normalisation (RFC 3986 §6.2.2 and §5.2.4, as Kong applies them).
#include "core/http/path.h"

namespace sluice::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Drops the last segment of `out` (and its leading '/'), keeping at least "".
void PopSegment(std::string* out) {
  size_t slash = out->rfind('/');
  out->resize(slash == std::string::npos ? 0 : slash);
}

}  // namespace

bool NormalizePath(absl::string_view raw, std::string* out) {
  out->clear();
  if (raw.empty() || raw[0] != '/')
    return false;

  // Pass 1 decodes unreserved escapes: dot-segment removal must see "%2E" as ".". The scratch
  // buffer is per thread so steady state allocates nothing.
  thread_local std::string decoded;
  decoded.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '%') {
      decoded.push_back(c);
      continue;
    }
    if (i + 2 >= raw.size())
      return false;
    int hi = HexValue(raw[i + 1]);
    int lo = HexValue(raw[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    unsigned char v = static_cast<unsigned char>(hi * 16 + lo);
    if (IsUnreserved(v)) {
      decoded.push_back(static_cast<char>(v));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      decoded.push_back('%');
      decoded.push_back(kHex[v >> 4]);
      decoded.push_back(kHex[v & 15]);
    }
    i += 2;
  }

  // Pass 2: RFC 3986 §5.2.4 remove_dot_segments, segment by segment. Empty segments are
  // dropped ("//" becomes "/") as Kong's router does (normalize(uri, merge_slashes = true)):
  // otherwise `//admin` would miss a route on `/admin` and fall through to a wider one.
  absl::string_view in(decoded);
  while (!in.empty()) {
    // `in` always starts with '/' here.
    size_t next = in.find('/', 1);
    absl::string_view seg =
        in.substr(1, next == absl::string_view::npos ? in.size() - 1 : next - 1);
    bool last = next == absl::string_view::npos;
    if (seg.empty() || seg == ".") {
      if (last)
        out->push_back('/');
    } else if (seg == "..") {
      PopSegment(out);
      if (last)
        out->push_back('/');
    } else {
      out->push_back('/');
      out->append(seg.data(), seg.size());
    }
    if (last)
      break;
    in.remove_prefix(next);
  }
  if (out->empty())
    out->push_back('/');
  return true;
}

void SplitTarget(absl::string_view target, absl::string_view* path, absl::string_view* query,
                 bool* has_query) {
  size_t q = target.find('?');
  if (q == absl::string_view::npos) {
    *path = target;
    *query = {};
    *has_query = false;
  } else {
    *path = target.substr(0, q);
    *query = target.substr(q + 1);
    *has_query = true;
  }
}

}  // namespace sluice::http

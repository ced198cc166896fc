// SPDX-License-Identifier: Apache-2.0
// Out-of-line pieces of the typed config (error formatting).
#include "core/config/config.h"

#include "absl/strings/str_cat.h"

namespace sluice::config {

std::string Error::ToString() const {
  if (mark.line <= 0) {
    return absl::StrCat(file, ": ", message);
  }
  return absl::StrCat(file, ":", mark.line, ":", mark.col, ": ", message);
}

}  // namespace sluice::config

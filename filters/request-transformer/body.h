// SPDX-License-Identifier: Apache-2.0
// request-transformer's body operations (reference/kong.md §7.2, "Body rules"): top-level keys
// of a JSON object, or the fields of an application/x-www-form-urlencoded body. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schema.h"
#include "template.h"

namespace sluice::filters::request_transformer {

enum class BodyKind { kOther, kJson, kForm, kMultipart };

// Kong's content-type test: a case-insensitive substring match, JSON first, then multipart,
// then form. Absent: kOther.
BodyKind ClassifyContentType(std::optional<std::string_view> content_type);

// The transformed body, or nullopt when it stays as it is (no body operation applied, an
// unparsable or non-object JSON body, multipart or another type).
std::optional<std::string> TransformBody(const Config& config, BodyKind kind, std::string_view body,
                                         const TemplateSource& source);

}  // namespace sluice::filters::request_transformer

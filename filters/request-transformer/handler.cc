// SPDX-License-Identifier: Apache-2.0
// request-transformer hooks; see handler.h.
#include "handler.h"

#include <string>
#include <utility>
#include <vector>

namespace sluice::filters::request_transformer {
namespace {

constexpr std::string_view kInternalError = R"({"message":"An unexpected error occurred"})";

// The request map through the SDK. Writes copy into the request arena (host side).
class SdkHeaderStore : public HeaderStore {
 public:
  explicit SdkHeaderStore(sluice::Headers map) : map_(map) {}

  bool Has(std::string_view name) const override { return map_.Has(name); }

  std::vector<std::string> Values(std::string_view name) const override {
    std::vector<std::string> out;
    for (size_t i = 0;; ++i) {
      std::optional<std::string_view> v = map_.Get(name, i);
      if (!v)
        return out;
      out.emplace_back(*v);
    }
  }

  void Set(std::string_view name, std::string_view value) override { map_.Set(name, value); }

  void Add(std::string_view name, std::string_view value) override { map_.Add(name, value); }

  void Remove(std::string_view name) override { map_.Remove(name); }

 private:
  sluice::Headers map_;
};

}  // namespace

Config RequestTransformer::ParseConfig(std::string_view json) {
  return request_transformer::ParseConfig(json);
}

RequestSnapshot RequestTransformer::Snapshot(const sluice::Request& req) const {
  const Config& c = config();
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  for (const std::string& name : c.template_headers) {
    std::optional<std::string> joined;
    for (size_t i = 0;; ++i) {
      std::optional<std::string_view> v = req.RequestHeaders().Get(name, i);
      if (!v)
        break;
      if (joined) {
        joined->append(", ");
        joined->append(*v);
      } else {
        joined = std::string(*v);
      }
    }
    headers.emplace_back(name, std::move(joined));
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> captures;
  for (const std::string& key : c.template_captures) {
    std::optional<std::string_view> v = req.UriCapture(key);
    captures.emplace_back(key, v ? std::optional<std::string>(*v) : std::nullopt);
  }
  return RequestSnapshot(std::move(headers), c.templates_read_query ? req.Query() : "",
                         std::move(captures));
}

sluice::Action RequestTransformer::OnRequestHeaders(sluice::Request& req) {
  const Config& c = config();
  // Templates read the request as it arrived, so take the values before anything changes.
  RequestSnapshot snapshot = Snapshot(req);

  if (c.http_method && req.SetUpstreamMethod(*c.http_method) != SLUICE_OK) {
    req.Log(sluice::LogLevel::kError, "cannot set the upstream method " + *c.http_method);
    req.SendJson(500, kInternalError);
    return sluice::Action::kStop;
  }

  if (std::optional<std::string> path = TransformUri(c, snapshot)) {
    if (req.SetUpstreamPath(*path) != SLUICE_OK) {
      // Kong's set_path raises an error here (a path not starting with '/'): 500.
      req.Log(sluice::LogLevel::kError, "replace.uri rendered an invalid path: " + *path);
      req.SendJson(500, kInternalError);
      return sluice::Action::kStop;
    }
  }

  if (c.has_header_ops) {
    SdkHeaderStore store(req.RequestHeaders());
    TransformHeaders(c, snapshot, &store);
  }

  if (c.has_body_ops && !req.end_of_stream()) {
    body_kind_ = ClassifyContentType(req.RequestHeaders().Get("content-type"));
    transform_body_ = body_kind_ == BodyKind::kJson || body_kind_ == BodyKind::kForm;
    if (transform_body_) {
      // The new length is known only at the end of the body: the host frames it anew.
      req.RequestHeaders().Remove("content-length");
      if (c.body_templates)
        snapshot_.emplace(std::move(snapshot));
    }
  }

  if (std::optional<std::string> query =
          TransformQuery(c, req.Query(), snapshot_ ? *snapshot_ : snapshot)) {
    if (req.SetUpstreamQuery(*query) != SLUICE_OK) {
      req.Log(sluice::LogLevel::kError, "cannot set the upstream query");
      req.SendJson(500, kInternalError);
      return sluice::Action::kStop;
    }
  }
  return sluice::Action::kContinue;
}

sluice::Action RequestTransformer::OnRequestBody(sluice::Request& req, bool end_of_stream) {
  if (!transform_body_)
    return sluice::Action::kContinue;
  // Keep every chunk until the whole body is here (bounded by the host's buffer limit, which
  // answers 413 itself).
  if (!end_of_stream)
    return sluice::Action::kBuffer;
  static const RequestSnapshot kEmpty({}, "");
  const TemplateSource& source = snapshot_ ? static_cast<const TemplateSource&>(*snapshot_)
                                           : static_cast<const TemplateSource&>(kEmpty);
  std::optional<std::string> body = TransformBody(config(), body_kind_, req.Body(), source);
  if (!body)
    return sluice::Action::kContinue;
  const sluice_status st = req.ReplaceBody(*body);
  if (st == SLUICE_ERR_LIMIT) {
    req.SendJson(413, R"({"message":"Request size limit exceeded"})");
    return sluice::Action::kStop;
  }
  if (st != SLUICE_OK) {
    req.Log(sluice::LogLevel::kError, "cannot replace the request body");
    req.SendJson(500, kInternalError);
    return sluice::Action::kStop;
  }
  return sluice::Action::kContinue;
}

}  // namespace sluice::filters::request_transformer

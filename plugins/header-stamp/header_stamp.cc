// SPDX-License-Identifier: Apache-2.0
// header-stamp: adds the configured headers to every response. The whole filter in C++ through
// <sluice/filter.hpp>: config parsing with field-path errors, one hook, one export macro.
//
// config: {"headers": {"X-Served-By": "sluice", "X-Env": "prod"}}
#include <string>
#include <utility>
#include <vector>

#include <sluice/filter.hpp>
#include <sluice/json.hpp>

namespace {

struct Config {
  std::vector<std::pair<std::string, std::string>> headers;
};

class HeaderStamp : public sluice::Filter<Config> {
 public:
  using Filter::Filter;

  static Config ParseConfig(std::string_view json) {
    sluice::json::Value root = sluice::json::Parse(json);
    root.AllowOnly({"headers"});
    const sluice::json::Value* headers = root.Find("headers");
    if (headers == nullptr)
      root.Fail("field 'headers' is required");
    Config config;
    for (const auto& [name, value] : headers->Object()) {
      if (name.empty())
        headers->Fail("a header name is empty");
      config.headers.emplace_back(name, value.String());
    }
    return config;
  }

  sluice::Action OnResponseHeaders(sluice::Request& req) {
    for (const auto& [name, value] : config().headers)
      req.ResponseHeaders().Set(name, value);
    return sluice::Action::kContinue;
  }
};

}  // namespace

SLUICE_FILTER(HeaderStamp, "header-stamp", 800, "1.0.0")

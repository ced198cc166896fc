// SPDX-License-Identifier: Apache-2.0
#include "core/server/options.h"

#include <vector>

#include <catch2/catch.hpp>

namespace sluice::server {
namespace {

absl::StatusOr<Options> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sluice");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return ParseOptions(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("options: defaults follow Kong", "[server]") {
  auto o = Parse({"-c", "kong.yaml"});
  REQUIRE(o.ok());
  CHECK(o->command == Options::Command::kRun);
  CHECK(o->config_path == "kong.yaml");
  CHECK(o->listen.empty());
  CHECK(o->admin_listen == "127.0.0.1:8001");
  CHECK(o->workers == 0);
  CHECK(o->access_log == "-");
  CHECK(o->log_level == "info");
  CHECK(o->client_max_body_size == 0);
  CHECK(o->client_header_timeout_ms == 60000);
}

TEST_CASE("options: every flag", "[server]") {
  auto o = Parse({"--config",
                  "a.yaml",
                  "--listen",
                  "127.0.0.1:1",
                  "--listen",
                  "127.0.0.1:2",
                  "--admin-listen",
                  "off",
                  "--workers",
                  "3",
                  "--filters-dir",
                  "/f",
                  "--access-log",
                  "off",
                  "--log-level",
                  "debug",
                  "--client-max-body-size",
                  "1024",
                  "--client-header-timeout",
                  "500"});
  REQUIRE(o.ok());
  CHECK(o->listen == std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"});
  CHECK(o->admin_listen == "off");
  CHECK(o->workers == 3);
  CHECK(o->filters_dir == "/f");
  CHECK(o->access_log == "off");
  CHECK(o->log_level == "debug");
  CHECK(o->client_max_body_size == 1024);
  CHECK(o->client_header_timeout_ms == 500);
}

TEST_CASE("options: validate, help and version", "[server]") {
  auto v = Parse({"validate", "-c", "x.yaml"});
  REQUIRE(v.ok());
  CHECK(v->command == Options::Command::kValidate);
  CHECK(Parse({"--help"})->command == Options::Command::kHelp);
  CHECK(Parse({"--version"})->command == Options::Command::kVersion);
}

TEST_CASE("options: errors name the argument", "[server]") {
  CHECK(Parse({}).status().message() == "-c FILE is required");
  CHECK(Parse({"-c", "a", "--bogus"}).status().message() == "unknown argument '--bogus'");
  CHECK(Parse({"-c", "a", "--workers", "0"}).status().message() ==
        "--workers: expected a number from 1 to 256, got '0'");
  CHECK(Parse({"-c"}).status().message() == "-c: missing value");
  CHECK(Parse({"-c", "a", "--client-max-body-size", "1k"}).status().message() ==
        "--client-max-body-size: expected a number of bytes, got '1k'");
  CHECK(Parse({"-c", "a", "--client-header-timeout", "0"}).status().message() ==
        "--client-header-timeout: expected milliseconds greater than 0, got '0'");
}

}  // namespace
}  // namespace sluice::server

// SPDX-License-Identifier: Apache-2.0
// The command line (DESIGN.md §4): parsed into Options, with usage and version text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::server {

struct Options {
  enum class Command { kRun, kValidate, kHelp, kVersion };
  Command command = Command::kRun;
  std::string config_path;
  std::vector<std::string> listen;  // empty: the default 0.0.0.0:8000
  std::string admin_listen = "127.0.0.1:8001";
  int workers = 0;               // 0: one per core
  std::string filters_dir;       // empty: <dir of the binary>/filters
  std::string access_log = "-";  // "-" stderr, "off", or a path
  std::string log_level = "info";
  uint64_t client_max_body_size = 0;          // bytes; 0 = unlimited (Kong's default); 413 beyond
  uint64_t client_header_timeout_ms = 60000;  // 408 when a request head takes longer
  std::string dns_resolver;  // Kong's dns_resolver: "IP[:PORT],..."; empty: /etc/resolv.conf
};

// Parses argv (without argv[0] handling beyond skipping it). Errors name the bad argument.
absl::StatusOr<Options> ParseOptions(int argc, char** argv);

extern const char kUsage[];

}  // namespace sluice::server

// SPDX-License-Identifier: Apache-2.0
#include "core/server/options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sluice::server {

const char kUsage[] =
    "usage: sluice -c FILE [--listen ADDR]... [--admin-listen ADDR] [--workers N]\n"
    "              [--filters-dir DIR] [--access-log PATH|-|off]\n"
    "              [--log-level debug|info|warn|error]\n"
    "              [--client-max-body-size BYTES] [--client-header-timeout MS]\n"
    "              [--dns-resolver IP[:PORT][,...]]\n"
    "       sluice validate -c FILE\n"
    "       sluice --version | --help\n"
    "\n"
    "  -c, --config FILE     Kong-style declarative configuration (YAML or JSON)\n"
    "  --listen ADDR         proxy listener HOST:PORT (repeatable; default 0.0.0.0:8000)\n"
    "  --admin-listen ADDR   admin API listener (default 127.0.0.1:8001; 'off' disables)\n"
    "  --workers N           worker threads, each with its own loop (default: cores)\n"
    "  --filters-dir DIR     where plugin NAME loads NAME.so from\n"
    "  --access-log DEST     '-' for stderr (default), 'off', or a file path\n"
    "  --log-level LEVEL     debug, info (default), warn or error\n"
    "  --client-max-body-size BYTES\n"
    "                        largest request body; 413 beyond (default 0: unlimited)\n"
    "  --client-header-timeout MS\n"
    "                        time a client has to send a request head; 408 beyond (60000)\n"
    "  --dns-resolver LIST   name servers for hostname targets (default: /etc/resolv.conf)\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain in-flight requests and exit 0; SIGHUP reloads the config.\n";

absl::StatusOr<Options> ParseOptions(int argc, char** argv) {
  Options o;
  int i = 1;
  if (argc > 1 && absl::string_view(argv[1]) == "validate") {
    o.command = Options::Command::kValidate;
    i = 2;
  }
  auto value = [&](absl::string_view flag) -> absl::StatusOr<std::string> {
    if (i + 1 >= argc)
      return absl::InvalidArgumentError(absl::StrCat(flag, ": missing value"));
    return std::string(argv[++i]);
  };
  for (; i < argc; ++i) {
    absl::string_view a = argv[i];
    absl::StatusOr<std::string> v;
    if (a == "--help" || a == "-h") {
      o.command = Options::Command::kHelp;
      return o;
    } else if (a == "--version" || a == "-V") {
      o.command = Options::Command::kVersion;
      return o;
    } else if (a == "-c" || a == "--config") {
      if (!(v = value(a)).ok())
        return v.status();
      o.config_path = *v;
    } else if (a == "--listen") {
      if (!(v = value(a)).ok())
        return v.status();
      o.listen.push_back(*v);
    } else if (a == "--admin-listen") {
      if (!(v = value(a)).ok())
        return v.status();
      o.admin_listen = *v;
    } else if (a == "--workers") {
      if (!(v = value(a)).ok())
        return v.status();
      if (!absl::SimpleAtoi(*v, &o.workers) || o.workers < 1 || o.workers > 256) {
        return absl::InvalidArgumentError(
            absl::StrCat("--workers: expected a number from 1 to 256, got '", *v, "'"));
      }
    } else if (a == "--filters-dir") {
      if (!(v = value(a)).ok())
        return v.status();
      o.filters_dir = *v;
    } else if (a == "--access-log") {
      if (!(v = value(a)).ok())
        return v.status();
      o.access_log = *v;
    } else if (a == "--log-level") {
      if (!(v = value(a)).ok())
        return v.status();
      o.log_level = *v;
    } else if (a == "--client-max-body-size") {
      if (!(v = value(a)).ok())
        return v.status();
      if (!absl::SimpleAtoi(*v, &o.client_max_body_size)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--client-max-body-size: expected a number of bytes, got '", *v, "'"));
      }
    } else if (a == "--client-header-timeout") {
      if (!(v = value(a)).ok())
        return v.status();
      if (!absl::SimpleAtoi(*v, &o.client_header_timeout_ms) || o.client_header_timeout_ms == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--client-header-timeout: expected milliseconds greater than 0, got '", *v, "'"));
      }
    } else if (a == "--dns-resolver") {
      if (!(v = value(a)).ok())
        return v.status();
      o.dns_resolver = *v;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", a, "'"));
    }
  }
  if (o.config_path.empty())
    return absl::InvalidArgumentError("-c FILE is required");
  return o;
}

}  // namespace sluice::server

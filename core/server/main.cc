// SPDX-License-Identifier: Apache-2.0
// Entry point: parses the command line and hands over to the server or the validator.
#include <cstdio>
#include <string>

#include "core/server/options.h"
#include "core/server/server.h"

int main(int argc, char** argv) {
  auto options = sluice::server::ParseOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "sluice: %s\n\n%s", std::string(options.status().message()).c_str(),
                 sluice::server::kUsage);
    return 2;
  }
  switch (options->command) {
    case sluice::server::Options::Command::kHelp:
      std::fputs(sluice::server::kUsage, stdout);
      return 0;
    case sluice::server::Options::Command::kVersion:
      std::puts("sluice " SLUICE_VERSION);
      return 0;
    case sluice::server::Options::Command::kValidate:
      return sluice::server::Validate(*options);
    case sluice::server::Options::Command::kRun:
      break;
  }
  return sluice::server::Run(*options);
}

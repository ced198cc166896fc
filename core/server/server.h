// SPDX-License-Identifier: Apache-2.0
// The process: loads the config, starts the workers, serves the admin API and handles signals
// (SIGTERM/SIGINT drain and exit 0, SIGHUP reloads) on the main thread's loop.
#pragma once

#include "core/server/options.h"

namespace sluice::server {

// Runs the gateway until it is told to stop; returns the process exit code.
int Run(const Options& options);

// `sluice validate -c FILE`: prints one `file:line:col: message` line per error to stderr and
// returns 1, or returns 0 when the file is valid.
int Validate(const Options& options);

}  // namespace sluice::server

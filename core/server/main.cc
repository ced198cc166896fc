// SPDX-License-Identifier: Apache-2.0
// Placeholder entry point until the server lands.
#include <cstdio>

int main() {
  std::puts("sluice " SLUICE_VERSION);
  return 0;
}

// SPDX-License-Identifier: Apache-2.0
// Placeholder until the example upstream lands.
int main() { return 0; }

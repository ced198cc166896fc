// SPDX-License-Identifier: Apache-2.0
// The ABI layout test again, compiled as C++20: the header must give C++ the same layout.
#include "abi_layout_test.c"

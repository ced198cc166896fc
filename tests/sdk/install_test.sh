#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the SDK of the current build into a temporary prefix, builds every standalone
# project under plugins/ against it (find_package(SluiceSDK)), and checks that each .so exports
# exactly the entry symbol. Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
failed=0
passed=0
for dir in "$src"/plugins/*/; do
  name=$(basename "$dir")
  out="$work/build/$name"
  # A clean environment: the plugin sees the installed SDK and nothing of the sluice tree.
  if ! cmake -S "$dir" -B "$out" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/$name.configure.log" 2>&1; then
    echo "$name: configure failed"; cat "$work/$name.configure.log"; failed=$((failed + 1)); continue
  fi
  if ! cmake --build "$out" >"$work/$name.build.log" 2>&1; then
    echo "$name: build failed"; cat "$work/$name.build.log"; failed=$((failed + 1)); continue
  fi
  if grep -rq "$src/sdk" "$out/CMakeCache.txt" "$out/build.ninja" 2>/dev/null; then
    echo "$name: the build reached into the source tree's sdk/"; failed=$((failed + 1)); continue
  fi
  exports=$(nm -D --defined-only "$out/$name.so" | awk '{print $3}')
  if [ "$exports" != "sluice_filter_module_v1" ]; then
    echo "$name: exports [$exports], want only sluice_filter_module_v1"; failed=$((failed + 1))
    continue
  fi
  echo "$name: built against the installed SDK, exports only sluice_filter_module_v1"
  passed=$((passed + 1))
done
echo "sdk install: $passed passed, $failed failed"
[ "$passed" -ge 2 ] && [ "$failed" -eq 0 ]

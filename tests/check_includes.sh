#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the dependency rules of STYLE.md §1: filters -> sdk <- core, and inside core a folder
# includes only folders earlier in the layer list. Prints each violation; exits 1 if any.
set -uo pipefail
cd "${1:-$(dirname "$0")/..}"
layers=(common loop net http config router upstream balancer filter_host proxy admin server)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && echo "$i" && return; done; echo -1; }
bad=0
while IFS= read -r -d '' f; do
  dir=$(echo "$f" | cut -d/ -f2)
  mine=$(rank "$dir")
  while IFS= read -r inc; do
    target=$(echo "$inc" | sed -E 's|#include "core/([a-z_]+)/.*|\1|')
    theirs=$(rank "$target")
    if [ "$theirs" -lt 0 ] || [ "$theirs" -gt "$mine" ]; then
      echo "$f: core/$dir may not include core/$target"; bad=1
    fi
  done < <(grep -hE '^#include "core/' "$f")
  if grep -qE '^#include "filters/' "$f"; then echo "$f: core may not include filters/"; bad=1; fi
done < <(find core \( -name '*.h' -o -name '*.cc' \) -print0)
for f in $(find filters plugins sdk -name '*.h' -o -name '*.hpp' -o -name '*.c' -o -name '*.cc' 2>/dev/null); do
  if grep -qE '^#include "core/' "$f"; then echo "$f: may not include core/"; bad=1; fi
done
[ "$bad" -eq 0 ] && echo "include boundaries: ok"
exit "$bad"

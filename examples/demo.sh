#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the demo: two example upstreams and the gateway with examples/kong.yaml, in the
# foreground until Ctrl-C. Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  return 1
}

"$build/sluice-echo" --listen 127.0.0.1:9001 --name user-service >/dev/null & pids+=($!)
"$build/sluice-echo" --listen 127.0.0.1:9002 --name order-service >/dev/null & pids+=($!)
wait_port 9001
wait_port 9002
"$build/sluice" -c "$here/kong.yaml" --listen 0.0.0.0:8000 --admin-listen 127.0.0.1:8001 & pids+=($!)
wait_port 8000

cat <<MSG

sluice is running: proxy on :8000, admin on 127.0.0.1:8001 (Ctrl-C stops everything).
Try:
  curl -i http://127.0.0.1:8000/api/users
  curl -i http://127.0.0.1:8000/api/users/42
  curl -i http://127.0.0.1:8000/api/orders/17?expand=items     # strip_path: upstream sees /v1/17
  curl -i -H 'Host: orders.example.com' http://127.0.0.1:8000/anything
  curl -i http://127.0.0.1:8000/nowhere                         # 404 from the gateway
  curl -s http://127.0.0.1:8001/status
  curl -s http://127.0.0.1:8001/metrics

MSG
wait "${pids[2]}"

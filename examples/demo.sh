#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the demo: two example upstreams and the gateway with examples/kong.yaml, in the
# foreground until Ctrl-C, and prints curl lines to try (each with the status it gets; the
# integration test tests/integration/demo_test.cc runs them). Usage: examples/demo.sh BUILD_DIR
#
# Environment, for when the default ports are taken:
#   SLUICE_DEMO_LISTEN      proxy address        (default 0.0.0.0:8000)
#   SLUICE_DEMO_ADMIN       admin address        (default 127.0.0.1:8001)
#   SLUICE_DEMO_USER_PORT   user-service port    (default 9001, as in kong.yaml)
#   SLUICE_DEMO_ORDER_PORT  order-service port   (default 9002, as in kong.yaml)
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
listen=${SLUICE_DEMO_LISTEN:-0.0.0.0:8000}
admin=${SLUICE_DEMO_ADMIN:-127.0.0.1:8001}
user_port=${SLUICE_DEMO_USER_PORT:-9001}
order_port=${SLUICE_DEMO_ORDER_PORT:-9002}
proxy_port=${listen##*:}
admin_port=${admin##*:}

pids=()
tmp=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2
  return 1
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt_hs256 ISS SECRET SUB: a JWT signed with HMAC-SHA256, expiring in a year.
jwt_hs256() {
  local header payload signature
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"%s","sub":"%s","exp":%d}' "$1" "$3" $(($(date +%s) + 365 * 86400)) |
    b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$2" -binary |
    b64url)
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}

command -v openssl >/dev/null || { echo "demo.sh: openssl is needed to sign the demo token" >&2; exit 1; }
# alice's jwt_secrets entry in kong.yaml: key (the `iss` claim) and HS256 secret.
token=$(jwt_hs256 alice-issuer alice-demo-secret-change-me alice)

config=$here/kong.yaml
if [ "$user_port" != 9001 ] || [ "$order_port" != 9002 ]; then
  tmp=$(mktemp -d)
  sed -e "s#http://127.0.0.1:9001#http://127.0.0.1:$user_port#" \
    -e "s#http://127.0.0.1:9002#http://127.0.0.1:$order_port#" "$here/kong.yaml" >"$tmp/kong.yaml"
  config=$tmp/kong.yaml
fi

"$build/sluice-echo" --listen 127.0.0.1:"$user_port" --name user-service >/dev/null & pids+=($!)
"$build/sluice-echo" --listen 127.0.0.1:"$order_port" --name order-service >/dev/null & pids+=($!)
wait_port "$user_port"
wait_port "$order_port"
"$build/sluice" -c "$config" --listen "$listen" --admin-listen "$admin" & pids+=($!)
wait_port "$proxy_port"
wait_port "$admin_port"

p=http://127.0.0.1:$proxy_port
a=http://127.0.0.1:$admin_port
cat <<MSG

sluice is running: proxy on :$proxy_port, admin on 127.0.0.1:$admin_port (Ctrl-C stops everything).
A token for consumer alice (HS256, signed with her jwt_secret in kong.yaml, valid for a year):

  TOKEN=$token

Try (set TOKEN first; the comment is the status you get):
  curl -i $p/api/users                                                  # 401 Unauthorized: no token
  curl -i -H "Authorization: Bearer \$TOKEN" $p/api/users                # 200, with X-RateLimit-Limit-Minute: 60 and X-RateLimit-Remaining-Minute
  curl -i -H "Authorization: Bearer \$TOKEN" $p/api/users/42             # 200, regex route user-by-id
  curl -i -H "Authorization: Bearer \$TOKEN" "$p/api/orders/17?expand=items"  # 200, upstream sees /v1/17?include=items&source=gateway and X-Gateway: sluice
  curl -i -H "Authorization: Bearer \$TOKEN" -H 'Host: orders.example.com' $p/anything  # 200, route by host
  curl -i -H 'Authorization: Bearer not.a.token' $p/api/users           # 401 Bad token; invalid JSON
  curl -i -X OPTIONS -H 'Origin: http://localhost:3000' -H 'Access-Control-Request-Method: GET' $p/api/users  # 200 CORS preflight, answered by the gateway
  curl -i $p/nowhere                                                    # 404 from the gateway: no route
  curl -s $a/status                                                     # 200
  curl -s $a/metrics                                                    # 200, kong_http_requests_total and the other Prometheus series

MSG
wait "${pids[2]}"

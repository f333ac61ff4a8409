# Sourced by the acceptance scripts: builds stagefront and starts
# `stagefront serve` with SigV4 on, on free loopback ports, in a temporary
# directory removed at exit (kept with KEEP_WORK=1).
#   serve_start ACCESS_KEY_ID SECRET_ACCESS_KEY
# sets WORK (the directory; the server logs to $WORK/server.log), BIN,
# API_PORT, EDGE_PORT, ADMIN_PORT, EP (the API's URL) and SERVER (its pid),
# and exports the key pair for the server and for the AWS CLI and SDKs.
# Call it from the repository root; it returns once /healthz answers.

# free_port (scripts/lib/port.sh) picks the ports.
source "$(dirname "${BASH_SOURCE[0]}")/port.sh"

serve_cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  if [[ ${KEEP_WORK:-} == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

serve_start() {
  WORK=$(mktemp -d)
  BIN="$WORK/stagefront"
  go build -o "$BIN" ./cmd/stagefront
  API_PORT=$(free_port); EDGE_PORT=$(free_port); ADMIN_PORT=$(free_port)
  export STAGEFRONT_ACCESS_KEY_ID=$1 STAGEFRONT_SECRET_ACCESS_KEY=$2
  export AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 AWS_DEFAULT_REGION=us-east-1
  unset AWS_PROFILE AWS_SESSION_TOKEN || true
  "$BIN" serve --data-dir "$WORK/data" --api-addr 127.0.0.1:$API_PORT --edge-addr 127.0.0.1:$EDGE_PORT \
    --admin-addr 127.0.0.1:$ADMIN_PORT >"$WORK/server.log" 2>&1 &
  SERVER=$!
  trap serve_cleanup EXIT
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fs "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null || { cat "$WORK/server.log"; echo "server did not start"; exit 1; }
  EP=http://127.0.0.1:$API_PORT
}

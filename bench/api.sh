#!/usr/bin/env bash
# API throughput: GetDistribution and UpdateDistribution req/s through
# stagefront's HTTP API, and GetDistribution against moto_server, as a ratio.
# Loopback only; each measurement is bounded by DURATION (default 5s).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
go build -o "$WORK/stagefront" ./cmd/stagefront
go build -o "$WORK/apibench" ./bench/apibench
source scripts/lib/port.sh
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }
API=$(free_port); MOTO=$(free_port); EDGE=$(free_port); ADMIN=$(free_port)
export STAGEFRONT_ACCESS_KEY_ID=AKSFBENCH0000000001 STAGEFRONT_SECRET_ACCESS_KEY=bench-secret
export AWS_ACCESS_KEY_ID=$STAGEFRONT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$STAGEFRONT_SECRET_ACCESS_KEY
"$WORK/stagefront" serve --data-dir "$WORK/data" --api-addr "127.0.0.1:$API" --edge-addr "127.0.0.1:$EDGE" \
  --admin-addr "127.0.0.1:$ADMIN" --log-level warn 2>"$WORK/sf.log" &
SF=$!
MOTO_PID=""
if command -v moto_server >/dev/null; then
  moto_server -H 127.0.0.1 -p "$MOTO" >"$WORK/moto.log" 2>&1 &
  MOTO_PID=$!
fi
trap 'kill $SF $MOTO_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port "$API"
MOTO_ARG=()
if [ -n "$MOTO_PID" ]; then wait_port "$MOTO"; MOTO_ARG=(-moto "http://127.0.0.1:$MOTO"); fi
"$WORK/apibench" -stagefront "http://127.0.0.1:$API" "${MOTO_ARG[@]}" -duration "${DURATION:-5s}" -concurrency "${CONCURRENCY:-16}"

#!/usr/bin/env bash
# Restart to first Hit with the disk cache tier, on the real binary:
# `stagefront serve --cache-dir` caches N objects (default 2000 of 8 KiB),
# is killed with SIGKILL, and is started again ROUNDS times (default 3); each
# line is the time from the new process's start to its first Hit, and the
# script fails if the origin was asked for anything after the first fill.
# Needs curl, python3 and the aws CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}
ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d)
PIDS=""
trap 'kill -9 $PIDS 2>/dev/null || true; rm -rf "$WORK"' EXIT
go build -o "$WORK/stagefront" ./cmd/stagefront
source scripts/lib/port.sh
wait_port() { for _ in $(seq 400); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }

mkdir -p "$WORK/www/o"
python3 -c "
import os
for i in range(1, $N + 1):
    open('$WORK/www/o/%d' % i, 'wb').write(os.urandom(8192))"
ORIGIN=$(free_port)
python3 -m http.server -b 127.0.0.1 -d "$WORK/www" "$ORIGIN" >/dev/null 2>"$WORK/origin.log" &
PIDS="$PIDS $!"
wait_port "$ORIGIN"
origin_gets() { grep -c '"GET /o/' "$WORK/origin.log" || true; }

API=$(free_port) EDGE=$(free_port) ADMIN=$(free_port)
start() {
  "$WORK/stagefront" serve --auth none --data-dir "$WORK/data" --cache-dir "$WORK/cache" --api-addr "127.0.0.1:$API" \
    --edge-addr "127.0.0.1:$EDGE" --admin-addr "127.0.0.1:$ADMIN" --log-level error 2>>"$WORK/stagefront.log" &
  SF=$!; PIDS="$PIDS $SF"
}
start
wait_port "$API"; wait_port "$EDGE"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
DOMAIN=$(aws cloudfront --endpoint-url "http://127.0.0.1:$API" create-distribution --query Distribution.DomainName --output text \
  --distribution-config "{\"CallerReference\":\"disk\",\"Comment\":\"\",\"Enabled\":true,
  \"Origins\":{\"Quantity\":1,\"Items\":[{\"Id\":\"o\",\"DomainName\":\"127.0.0.1\",
    \"CustomOriginConfig\":{\"HTTPPort\":$ORIGIN,\"HTTPSPort\":443,\"OriginProtocolPolicy\":\"http-only\"}}]},
  \"DefaultCacheBehavior\":{\"TargetOriginId\":\"o\",\"ViewerProtocolPolicy\":\"allow-all\",\"CachePolicyId\":\"658327ea-f89d-4fab-a63d-7e88639e58f6\"}}")
for _ in $(seq 200); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $DOMAIN" "http://127.0.0.1:$EDGE/o/1")" = 200 ] && break; sleep 0.05; done
seq "$N" | xargs -P 4 -I{} curl -s -o /dev/null -H "Host: $DOMAIN" "http://127.0.0.1:$EDGE/o/{}"
for _ in $(seq 400); do [ "$(find "$WORK/cache/objects" -type f | wc -l)" -ge "$N" ] && break; sleep 0.05; done
FILLED=$(origin_gets)
echo "$N objects of 8 KiB cached on disk ($(du -sh "$WORK/cache/objects" | cut -f1)); load: $(cut -d' ' -f1-3 /proc/loadavg)"

for ((round = 1; round <= ROUNDS; round++)); do
  kill -9 "$SF"; wait "$SF" 2>/dev/null || true
  t0=$(date +%s%N)
  start
  until curl -s -D - -o /dev/null -H "Host: $DOMAIN" "http://127.0.0.1:$EDGE/o/$round" 2>/dev/null | grep -qi '^X-Cache: Hit'; do
    sleep 0.005
  done
  t1=$(date +%s%N)
  echo "restart $round: first Hit after $(( (t1 - t0) / 1000000 )) ms"
done
if [ "$(origin_gets)" != "$FILLED" ]; then
  echo "the origin was asked $(( $(origin_gets) - FILLED )) times after the fill"; exit 1
fi

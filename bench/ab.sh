#!/usr/bin/env bash
# Two stagefront binaries side by side, measured at the same time:
#   bash bench/ab.sh A B [cached|logged|miss]       (default: miss)
#   bash bench/ab.sh A A onoff
# onoff measures what access logging costs a cached hit: both edges serve
# a cached object from two distributions, one with Logging enabled; in
# each round one edge is loaded on the logged one while the other is
# loaded on the unlogged one, the two edges trading places every round,
# and the summary gives the logged hits' req/s and CPU per request
# relative to the unlogged ones', round by round.
# A and B are built binaries (say, `go build -o /tmp/a ./cmd/stagefront` on
# two commits). Each runs its own `stagefront serve` with bench/edge.sh's
# distributions (a cached 1 KiB object, the same with access logging on, a
# CachingDisabled miss to an nginx origin they share), and in every round
# (ROUNDS, default 10, of DURATION, default 3s) one wrk per edge (CONNS,
# default 32, one thread each) loads both at once. Both then meet the same
# machine, where measurements taken one after the other meet a machine
# whose speed drifts between them: on a shared 2-core VM, nginx alone
# drifted by a factor of two within a day, more than most changes are
# worth. Each round prints, for each binary, its requests/s, its CPU per
# request (user+system, µs) and its context switches per request; the
# summary counts the rounds in which A spent less CPU per request and
# gives the mean of the per-round differences. Loopback only; needs wrk
# and nginx (apt-get install -y wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bash bench/ab.sh BINARY_A BINARY_B [cached|logged|miss|onoff]"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); CASE=${3:-miss}
case $CASE in cached|logged|miss|onoff) ;; *) echo "case $CASE: cached, logged, miss or onoff"; exit 2 ;; esac
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install -y wrk nginx-light"; exit 1; }
DURATION=${DURATION:-3s}; CONNS=${CONNS:-32}; ROUNDS=${ROUNDS:-10}
WORK=$(mktemp -d); chmod 755 "$WORK"
source scripts/lib/port.sh
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }
ORIGIN=$(free_port)
mkdir -p "$WORK/www/v1" "$WORK/origin"
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/v1/obj.txt"
cat > "$WORK/origin/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/origin/nginx.pid;
error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/origin/body; proxy_temp_path $WORK/origin/proxy;
  fastcgi_temp_path $WORK/origin/fcgi; uwsgi_temp_path $WORK/origin/uwsgi; scgi_temp_path $WORK/origin/scgi;
  keepalive_requests 1000000;
  default_type text/plain;
  server { listen 127.0.0.1:$ORIGIN; root $WORK/www; }
}
NGX
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; nginx -c "$WORK/origin/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$WORK"' EXIT
nginx -c "$WORK/origin/nginx.conf"
wait_port "$ORIGIN"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
declare -A PID PORT HOST LHOST
# start NAME BINARY: an edge with the case's distribution, warmed.
start() {
  local api edge admin cfg policy logging=""
  api=$(free_port); edge=$(free_port); admin=$(free_port)
  "$2" serve --auth none --data-dir "$WORK/data-$1" --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" \
    --admin-addr "127.0.0.1:$admin" --access-log-dir "$WORK/logs-$1" --log-level error 2>"$WORK/$1.log" &
  PID[$1]=$!; PIDS="$PIDS $!"; PORT[$1]=$edge
  wait_port "$api"; wait_port "$edge"
  case $CASE in
  miss) policy=4135ea2d-6df8-44a3-9df3-4b5a84be39ad ;; # CachingDisabled
  *) policy=658327ea-f89d-4fab-a63d-7e88639e58f6 ;;    # CachingOptimized
  esac
  [ "$CASE" != logged ] || logging=',"Logging":{"Enabled":true,"IncludeCookies":false,"Bucket":"logs.s3.amazonaws.com","Prefix":"bench/"}'
  if [ "$CASE" = onoff ]; then
    LHOST[$1]=$(aws cloudfront --endpoint-url "http://127.0.0.1:$api" create-distribution --query Distribution.DomainName \
      --output text --distribution-config "{\"CallerReference\":\"ab-logged\",\"Comment\":\"\",\"Enabled\":true,
      \"Origins\":{\"Quantity\":1,\"Items\":[{\"Id\":\"o\",\"DomainName\":\"127.0.0.1\",\"OriginPath\":\"/v1\",
        \"CustomOriginConfig\":{\"HTTPPort\":$ORIGIN,\"HTTPSPort\":443,\"OriginProtocolPolicy\":\"http-only\"}}]},
      \"DefaultCacheBehavior\":{\"TargetOriginId\":\"o\",\"ViewerProtocolPolicy\":\"allow-all\",\"CachePolicyId\":\"$policy\"},
      \"Logging\":{\"Enabled\":true,\"IncludeCookies\":false,\"Bucket\":\"logs.s3.amazonaws.com\",\"Prefix\":\"bench/\"}}")
  fi
  cfg="{\"CallerReference\":\"ab\",\"Comment\":\"\",\"Enabled\":true,
    \"Origins\":{\"Quantity\":1,\"Items\":[{\"Id\":\"o\",\"DomainName\":\"127.0.0.1\",\"OriginPath\":\"/v1\",
      \"CustomOriginConfig\":{\"HTTPPort\":$ORIGIN,\"HTTPSPort\":443,\"OriginProtocolPolicy\":\"http-only\"}}]},
    \"DefaultCacheBehavior\":{\"TargetOriginId\":\"o\",\"ViewerProtocolPolicy\":\"allow-all\",\"CachePolicyId\":\"$policy\"}$logging}"
  HOST[$1]=$(aws cloudfront --endpoint-url "http://127.0.0.1:$api" create-distribution --query Distribution.DomainName \
    --output text --distribution-config "$cfg")
  local u="http://127.0.0.1:$edge/obj.txt"
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: ${HOST[$1]}" "$u")" = 200 ] && break; sleep 0.05; done
  curl -s -o /dev/null -H "Host: ${HOST[$1]}" "$u"
  [ -z "${LHOST[$1]:-}" ] || { curl -s -o /dev/null -H "Host: ${LHOST[$1]}" "$u"; curl -s -o /dev/null -H "Host: ${LHOST[$1]}" "$u"; }
}
start a "$A"; start b "$B"
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s+=$2} END {print s}'; }
# run NAME [HOST]: one wrk on edge NAME (for HOST, default its
# distribution's); prints "req/s CPU-us/req ctx-switches/req".
run() {
  local p=${PID[$1]} host=${2:-${HOST[$1]}} t0 t1 s0 s1 out
  t0=$(ticks "$p"); s0=$(switches "$p")
  out=$(wrk -t1 -c"$CONNS" -d"$DURATION" -H "Host: $host" "http://127.0.0.1:${PORT[$1]}/obj.txt")
  t1=$(ticks "$p"); s1=$(switches "$p")
  awk -v t=$((t1 - t0)) -v s=$((s1 - s0)) -v hz="$HZ" '/requests in/ {n = $1} /Requests\/sec/ {rps = $2}
    END {printf "%.0f %.1f %.2f\n", rps, t * 1e6 / hz / n, s / n}' <<<"$out"
}
echo "$CASE: A=$A B=$B; $ROUNDS rounds of $DURATION, wrk -t1 -c$CONNS on each edge at once"
if [ "$CASE" = onoff ]; then
  printf '%-6s %-7s %24s %24s\n' round logged "logged req/s µs/req sw/req" "unlogged req/s µs/req sw/req"
  RES=()
  for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then l=b u=a; else l=a u=b; fi
    run "$l" "${LHOST[$l]}" > "$WORK/rl" & jl=$!
    run "$u" > "$WORK/ru" & ju=$!
    wait "$jl" "$ju"
    printf '%-6s %-7s %24s %24s\n' "$r" "$l" "$(cat "$WORK/rl")" "$(cat "$WORK/ru")"
    RES+=("$(cat "$WORK/rl") $(cat "$WORK/ru")")
  done
  med=$(printf '%s\n' "${RES[@]}" | awk '{print $1 / $4}' | sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}')
  printf '%s\n' "${RES[@]}" | awk -v med="$med" '{n++; r = $1 / $4; rr += r; cr += $2 / $5; if (r >= 0.95) met++}
    END {printf "logged/unlogged: mean req/s ratio %.3f (median %.3f, %d of %d rounds at 0.95 or more), mean CPU per request ratio %.3f\n", rr / n, med, met, n, cr / n}'
  exit 0
fi
printf '%-6s %24s %24s\n' round "A req/s µs/req sw/req" "B req/s µs/req sw/req"
RES=()
for ((r = 1; r <= ROUNDS; r++)); do
  run a > "$WORK/ra" & ja=$!
  run b > "$WORK/rb" & jb=$!
  wait "$ja" "$jb"
  printf '%-6s %24s %24s\n' "$r" "$(cat "$WORK/ra")" "$(cat "$WORK/rb")"
  RES+=("$(cat "$WORK/ra") $(cat "$WORK/rb")")
done
printf '%s\n' "${RES[@]}" | awk '{n++; if ($2 < $5) less++; d += ($2 - $5) / $5; rr += $1 / $4}
  END {printf "A spent less CPU per request than B in %d of %d rounds; mean per-round difference %+.1f %%; mean req/s ratio A/B %.3f\n", less, n, 100 * d / n, rr / n}'

#!/usr/bin/env bash
# Edge serving speed against nginx, in one run, loopback only, bounded by
# DURATION (default 5s) per measurement and ROUNDS (default 3) rounds, each
# measuring every case once, interleaved; the medians are reported:
#   1. a 1 KiB object cached by the edge   vs  nginx serving the same file
#   2. the edge's cache-miss proxy path     vs  nginx proxy_pass to the same origin
#   3. the cached object of case 1 on a distribution with Logging enabled
#      (CloudFront standard access logs, written under the run's directory)
#      vs case 1: what access logging costs a hit
# The origin is a separate nginx serving the file. Needs wrk and nginx (apt-get install wrk nginx-light).
# Besides requests/s, each line shows the CPU the server under test spent
# per request (stagefront, or the nginx workers under test; user+system;
# the origin's CPU is not counted), which is less sensitive to other load
# on the machine than requests/s, the context switches of its threads per
# request, the origin nginx's CPU per request (the same for every proxy
# that talks to it alike, unless the proxy disturbs it: see
# docs/performance.md) and wrk's 99th percentile latency; the miss run
# counts the edge's connections to the origin (pooled: at most one per
# viewer connection).
# Knobs: DURATION, CONNS, THREADS (wrk), ROUNDS, BASELINE=1 (see below); EDGE_ENV="GOGC=100" runs the edge
# with extra environment, EDGE_ARGS="--cpu-sched normal" with extra flags;
# PROFILE=dir saves a CPU profile of each edge run.
# EDGE_ENGINE="loop fasthttp nethttp" (one or more, in that run) measures
# `stagefront serve --edge-engine ENGINE`; unset, the default (loop).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install -y wrk nginx-light"; exit 1; }
DURATION=${DURATION:-5s}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; ROUNDS=${ROUNDS:-3}
WORK=$(mktemp -d); chmod 755 "$WORK"
ENGINES=${EDGE_ENGINE:-}
for e in $ENGINES; do case $e in nethttp|fasthttp|loop) ;; *) echo "EDGE_ENGINE: $e is not loop, fasthttp or nethttp"; exit 1 ;; esac; done
go build -o "$WORK/stagefront" ./cmd/stagefront
[ "${BASELINE:-0}" = 0 ] || go build -o "$WORK/gobaseline" ./bench/gobaseline
source scripts/lib/port.sh
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }
ORIGIN=$(free_port); NGX_STATIC=$(free_port); NGX_PROXY=$(free_port)
mkdir -p "$WORK/www/v1" "$WORK/nginx" "$WORK/origin"
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/v1/obj.txt"
# nginx_conf NAME SERVERS writes $WORK/NAME/nginx.conf: an nginx of its own
# (pid, logs, temp files under $WORK/NAME) with the given http-level lines.
nginx_conf() {
  cat > "$WORK/$1/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/$1/body; proxy_temp_path $WORK/$1/proxy;
  fastcgi_temp_path $WORK/$1/fcgi; uwsgi_temp_path $WORK/$1/uwsgi; scgi_temp_path $WORK/$1/scgi;
  keepalive_requests 1000000;
  default_type text/plain;
$2
}
NGX
}
nginx_conf nginx "  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 256; }
  server { listen 127.0.0.1:$NGX_STATIC; root $WORK/www; }
  server { listen 127.0.0.1:$NGX_PROXY;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
# The origin is an nginx of its own, so that nginx proxy_pass, like the
# edge, crosses a process boundary to reach it (in one nginx, a proxy
# worker would often serve its own upstream connection without a wakeup).
nginx_conf origin "  server { listen 127.0.0.1:$ORIGIN; root $WORK/www; }"
SFS=""
trap 'for p in $SFS; do kill $p 2>/dev/null || true; done; for c in nginx origin; do nginx -c "$WORK/$c/nginx.conf" -s stop 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
nginx -c "$WORK/origin/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
wait_port "$ORIGIN"; wait_port "$NGX_STATIC"; wait_port "$NGX_PROXY"
mkdist() { # $1 ref, $2 cache policy id, $3 (optional) the Logging element
  aws cloudfront --endpoint-url "http://127.0.0.1:$API" create-distribution --query Distribution.DomainName --output text \
    --distribution-config "{\"CallerReference\":\"$1\",\"Comment\":\"\",\"Enabled\":true,
    \"Origins\":{\"Quantity\":1,\"Items\":[{\"Id\":\"o\",\"DomainName\":\"127.0.0.1\",\"OriginPath\":\"/v1\",
      \"CustomOriginConfig\":{\"HTTPPort\":$ORIGIN,\"HTTPSPort\":443,\"OriginProtocolPolicy\":\"http-only\"}}]},
    \"DefaultCacheBehavior\":{\"TargetOriginId\":\"o\",\"ViewerProtocolPolicy\":\"allow-all\",\"CachePolicyId\":\"$2\"}${3:+,\"Logging\":$3}}"
}
# start_edge NAME [ENGINE] starts an edge (stagefront serve [--edge-engine
# ENGINE]; the default engine without one), creates the two distributions
# and warms the cached one; it records the edge's pid, port, admin port and
# the two distributions' names under NAME.
declare -A PID PORT ADMINP CACHED UNCACHED LOGGED
start_edge() {
  local api edge admin
  api=$(free_port); edge=$(free_port); admin=$(free_port)
  env ${EDGE_ENV:-} "$WORK/stagefront" serve --auth none --data-dir "$WORK/data-$1" --api-addr "127.0.0.1:$api" --edge-addr "127.0.0.1:$edge" \
    --admin-addr "127.0.0.1:$admin" --access-log-dir "$WORK/access-logs-$1" --log-level error ${2:+--edge-engine "$2"} ${EDGE_ARGS:-} 2>"$WORK/sf-$1.log" &
  PID[$1]=$!; SFS="$SFS $!"; PORT[$1]=$edge; ADMINP[$1]=$admin
  wait_port "$api"; wait_port "$edge"
  API=$api
  CACHED[$1]=$(mkdist cached 658327ea-f89d-4fab-a63d-7e88639e58f6)
  UNCACHED[$1]=$(mkdist uncached 4135ea2d-6df8-44a3-9df3-4b5a84be39ad)
  LOGGED[$1]=$(mkdist logged 658327ea-f89d-4fab-a63d-7e88639e58f6 \
    '{"Enabled":true,"IncludeCookies":false,"Bucket":"logs.s3.amazonaws.com","Prefix":"bench/"}')
  local u="http://127.0.0.1:$edge/obj.txt"
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: ${UNCACHED[$1]}" "$u")" = 200 ] && break; sleep 0.05; done
  curl -s -o /dev/null -H "Host: ${CACHED[$1]}" "$u"
  curl -s -D - -o /dev/null -H "Host: ${CACHED[$1]}" "$u" | grep -qi "X-Cache: Hit" || { echo "edge did not cache the object:"; curl -s -D - -H "Host: ${CACHED[$1]}" "$u"; exit 1; }
  curl -s -o /dev/null -H "Host: ${LOGGED[$1]}" "$u"
  curl -s -D - -o /dev/null -H "Host: ${LOGGED[$1]}" "$u" | grep -qi "X-Cache: Hit" || { echo "edge did not cache the logged distribution's object"; exit 1; }
}

HZ=$(getconf CLK_TCK)
NGX_WORKERS=$(pgrep -P "$(cat "$WORK/nginx/nginx.pid")" | tr '\n' ' ')
ORIGIN_WORKERS=$(pgrep -P "$(cat "$WORK/origin/nginx.pid")" | tr '\n' ' ')
cpu_ticks() { # utime+stime of the given pids
  local p
  for p in "$@"; do awk '{print $14+$15}' "/proc/$p/stat"; done | awk '{s+=$1} END {print s}'
}
# ctx_switches PIDS: the context switches (voluntary and not) of every
# thread of the given pids so far.
ctx_switches() {
  local p
  for p in "$@"; do cat /proc/"$p"/task/*/status 2>/dev/null; done | awk '/ctxt_switches/ {s+=$2} END {print s}'
}
# measure NAME "PIDS" [wrk args...] prints "NAME req/s server-CPU-us/req
# context-switches/req", both of PIDS (the server under test) only.
measure() {
  local name=$1 pids=$2 before after sw0 sw1 out prof=""; shift 2
  if [ -n "${PROFILE:-}" ] && [[ $name == edge-* ]]; then
    mkdir -p "$PROFILE"
    local e=${name#edge-*-}
    curl -s "http://127.0.0.1:${ADMINP[$e]}/debug/pprof/profile?seconds=$(( ${DURATION%s} > 2 ? ${DURATION%s} - 1 : 1 ))" > "$PROFILE/$name-$ROUND.pprof" &
    prof=$!
  fi
  local o0 o1
  before=$(cpu_ticks $pids); sw0=$(ctx_switches $pids); o0=$(cpu_ticks $ORIGIN_WORKERS)
  out=$(wrk --latency -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@")
  after=$(cpu_ticks $pids); sw1=$(ctx_switches $pids); o1=$(cpu_ticks $ORIGIN_WORKERS)
  [ -z "$prof" ] || wait "$prof"
  awk -v name="$name" -v b="$before" -v a="$after" -v hz="$HZ" -v sw="$((sw1 - sw0))" -v o="$((o1 - o0))" '
    /requests in/ {n = $1} /Requests\/sec/ {rps = $2}
    /^ +99%/ {p99 = $2 + 0; if ($2 ~ /us$/) p99 /= 1000; else if ($2 ~ /[^m]s$/) p99 *= 1000}
    END {printf "%s %s %.1f %.2f %.1f %.2f\n", name, rps, (a - b) * 1e6 / hz / n, sw / n, o * 1e6 / hz / n, p99}' <<<"$out"
}
echo "wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds (medians shown), 1 KiB object, HTTP/1.1 keep-alive, loopback, $(nproc) cores${EDGE_ENV:+, edge env $EDGE_ENV}${EDGE_ARGS:+, edge flags $EDGE_ARGS}${ENGINES:+, engines: $ENGINES}"
if [ -n "$ENGINES" ]; then NAMES=$ENGINES; else NAMES=serve; fi
for n in $NAMES; do if [ "$n" = serve ]; then start_edge serve; else start_edge "$n" "$n"; fi; done
# BASELINE=1 adds bench/gobaseline: a bare fasthttp server with none of the
# edge's work, serving the same object or proxying to the same origin; the
# floor of what Go can do here.
GO_PIDS=()
if [ "${BASELINE:-0}" != 0 ]; then
  GO_STATIC=$(free_port); GO_PROXY=$(free_port)
  "$WORK/gobaseline" static "127.0.0.1:$GO_STATIC" & GO_PIDS+=($!); SFS="$SFS $!"
  "$WORK/gobaseline" proxy "127.0.0.1:$GO_PROXY" "127.0.0.1:$ORIGIN" & GO_PIDS+=($!); SFS="$SFS $!"
  wait_port "$GO_STATIC"; wait_port "$GO_PROXY"
fi
# Every round measures each case once, edges and nginx interleaved, so that
# a slow spell of the machine weighs on all of them alike.
RESULTS=()
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  for n in $NAMES; do
    RESULTS+=("$(measure "edge-cached-$n" "${PID[$n]}" -H "Host: ${CACHED[$n]}" "http://127.0.0.1:${PORT[$n]}/obj.txt")")
    RESULTS+=("$(measure "edge-logged-$n" "${PID[$n]}" -H "Host: ${LOGGED[$n]}" "http://127.0.0.1:${PORT[$n]}/obj.txt")")
  done
  RESULTS+=("$(measure nginx-static "$NGX_WORKERS" "http://127.0.0.1:$NGX_STATIC/v1/obj.txt")")
  [ ${#GO_PIDS[@]} = 0 ] || RESULTS+=("$(measure go-static "${GO_PIDS[0]}" "http://127.0.0.1:$GO_STATIC/v1/obj.txt")")
  for n in $NAMES; do
    # Halfway through the first miss run, count the edge's origin connections.
    counter=""
    if [ "$ROUND" = 1 ]; then
      ( sleep "$(( ${DURATION%s} / 2 ))"; ss -Htnp state established "( dport = :$ORIGIN )" | grep -c "pid=${PID[$n]}," > "$WORK/origin-conns-$n" ) &
      counter=$!
    fi
    RESULTS+=("$(measure "edge-miss-$n" "${PID[$n]}" -H "Host: ${UNCACHED[$n]}" "http://127.0.0.1:${PORT[$n]}/obj.txt")")
    [ -z "$counter" ] || wait "$counter"
  done
  RESULTS+=("$(measure nginx-proxy "$NGX_WORKERS" "http://127.0.0.1:$NGX_PROXY/v1/obj.txt")")
  [ ${#GO_PIDS[@]} = 0 ] || RESULTS+=("$(measure go-proxy "${GO_PIDS[1]}" "http://127.0.0.1:$GO_PROXY/v1/obj.txt")")
done
label() {
  case $1 in
  edge-cached-serve) echo "edge, cached object" ;; edge-miss-serve) echo "edge, cache miss (CachingDisabled)" ;;
  edge-logged-serve) echo "edge, cached object, access log on" ;;
  edge-cached-*) echo "edge ${1#edge-cached-}, cached object" ;; edge-logged-*) echo "edge ${1#edge-logged-}, cached, access log on" ;; edge-miss-*) echo "edge ${1#edge-miss-}, cache miss (CachingDisabled)" ;;
  nginx-static) echo "nginx, static file" ;; nginx-proxy) echo "nginx, proxy_pass" ;;
  go-static) echo "bare fasthttp baseline, constant object" ;; go-proxy) echo "bare fasthttp baseline, proxy" ;;
  esac
}
# median NAME COLUMN: the median of a case's rounds (2: req/s, 3: CPU,
# 4: context switches, 5: the origin's CPU, 6: wrk's 99th percentile
# latency in ms).
median() { printf '%s\n' "${RESULTS[@]}" | awk -v n="$1" -v c="$2" '$1 == n {print $c}' | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
CASES=()
for n in $NAMES; do CASES+=("edge-cached-$n" "edge-logged-$n"); done
CASES+=(nginx-static)
[ ${#GO_PIDS[@]} = 0 ] || CASES+=(go-static)
for n in $NAMES; do CASES+=("edge-miss-$n"); done
CASES+=(nginx-proxy)
[ ${#GO_PIDS[@]} = 0 ] || CASES+=(go-proxy)
MEDIANS=()
for c in "${CASES[@]}"; do MEDIANS+=("$c $(median "$c" 2) $(median "$c" 3) $(median "$c" 4) $(median "$c" 5) $(median "$c" 6)"); done
printf '%-46s %12s %20s %16s %20s %10s\n' "" "req/s" "server CPU us/req" "ctx switch/req" "origin CPU us/req" "p99 ms"
for r in "${MEDIANS[@]}"; do set -- $r; printf '%-46s %12.0f %20s %16s %20s %10s\n' "$(label "$1")" "$2" "$3" "$4" "$5" "$6"; done
for n in $NAMES; do echo "edge $n connections to the origin during the miss run: $(cat "$WORK/origin-conns-$n") (wrk holds $CONNS)"; done
for n in $NAMES; do
  # While the CPUs are busy the access log holds its lines (formatting
  # and compressing them later): wait for it to write what it holds.
  t0=$(date +%s.%N); first=""
  for _ in $(seq 600); do
    held=$(curl -s "http://127.0.0.1:${ADMINP[$n]}/metrics" | awk '/^stagefront_access_log_backlog_bytes/ {printf "%d", $2}')
    first=${first:-${held:-0}}
    [ "${held:-0}" = 0 ] && break
    sleep 0.1
  done
  waited=$(awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.1f", t1 - t0}')
  sleep 1.2 # the batches being filled join within a second
  m=$(curl -s "http://127.0.0.1:${ADMINP[$n]}/metrics")
  echo "edge $n access log: $(awk '/^stagefront_access_log_lines_total/ {s+=$2} END {printf "%d", s}' <<<"$m") lines written, $(awk '/^stagefront_access_log_dropped_total/ {s+=$2} END {printf "%d", s}' <<<"$m") dropped; it held $((first >> 20)) MiB of requests after the last run and wrote them in ${waited}s"
done
printf '%s\n' "${MEDIANS[@]}" | awk -v names="$NAMES" '
  {rps[$1] = $2; cpu[$1] = $3}
  END {
    n = split(names, ns, " ")
    for (i = 1; i <= n; i++) {
      e = ns[i]; tag = (e == "serve") ? "" : " (" e ")"
      printf "cached%s: edge/nginx = %.2fx req/s (goal >= 1.25x), %.2fx CPU per request\n", tag, rps["edge-cached-" e] / rps["nginx-static"], cpu["edge-cached-" e] / cpu["nginx-static"]
      printf "access log%s: on/off = %.2fx req/s (goal >= 0.95x), %.2fx CPU per request\n", tag, rps["edge-logged-" e] / rps["edge-cached-" e], cpu["edge-logged-" e] / cpu["edge-cached-" e]
      printf "proxy%s:  edge/nginx = %.2fx req/s (goal >= 1.0x), %.2fx CPU per request\n", tag, rps["edge-miss-" e] / rps["nginx-proxy"], cpu["edge-miss-" e] / cpu["nginx-proxy"]
    }
  }'
# The same ratios round by round: each pairs measurements taken a few
# seconds apart, which a machine whose speed drifts (a shared host)
# disturbs less than the ratio of two medians.
printf '%s\n' "${RESULTS[@]}" | awk -v names="$NAMES" '
  {k = $1; seen[k]++; rps[k, seen[k]] = $2}
  END {
    n = split(names, ns, " ")
    for (i = 1; i <= n; i++) {
      e = ns[i]; tag = (e == "serve") ? "" : " (" e ")"
      split("cached nginx-static|logged edge-cached-" e "|miss nginx-proxy", pairs, "|")
      for (p = 1; p <= 3; p++) {
        split(pairs[p], ab, " "); a = "edge-" ab[1] "-" e; b = ab[2]
        line = ""
        for (r = 1; r <= seen[a]; r++) if (rps[b, r] > 0) line = line sprintf(" %.2f", rps[a, r] / rps[b, r])
        printf "%s%s per round:%s\n", (p == 1 ? "cached" : p == 2 ? "access log" : "proxy"), tag, line
      }
    }
  }'

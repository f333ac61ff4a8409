#!/usr/bin/env bash
# Edge serving speed against nginx, in one run, loopback only, bounded by
# DURATION (default 10s) per measurement:
#   1. a 1 KiB object cached by the edge   vs  nginx serving the same file
#   2. the edge's cache-miss proxy path     vs  nginx proxy_pass to the same origin
# The origin is an nginx serving the file. Needs wrk and nginx (apt-get install wrk nginx-light).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install -y wrk nginx-light"; exit 1; }
DURATION=${DURATION:-10s}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}
WORK=$(mktemp -d); chmod 755 "$WORK"
go build -o "$WORK/stagefront" ./cmd/stagefront
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }
ORIGIN=$(port); NGX_STATIC=$(port); NGX_PROXY=$(port); API=$(port); EDGE=$(port); ADMIN=$(port)
mkdir -p "$WORK/www/v1" "$WORK/nginx"
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/www/v1/obj.txt"
cat > "$WORK/nginx/nginx.conf" <<NGX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  default_type text/plain;
  upstream origin { server 127.0.0.1:$ORIGIN; keepalive 256; }
  server { listen 127.0.0.1:$ORIGIN; root $WORK/www; }
  server { listen 127.0.0.1:$NGX_STATIC; root $WORK/www; }
  server { listen 127.0.0.1:$NGX_PROXY;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGX
nginx -c "$WORK/nginx/nginx.conf"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
"$WORK/stagefront" serve --auth none --data-dir "$WORK/data" --api-addr "127.0.0.1:$API" --edge-addr "127.0.0.1:$EDGE" \
  --admin-addr "127.0.0.1:$ADMIN" --log-level error 2>"$WORK/sf.log" &
SF=$!
trap 'kill $SF 2>/dev/null || true; nginx -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_port "$API"; wait_port "$ORIGIN"; wait_port "$NGX_STATIC"; wait_port "$NGX_PROXY"
mkdist() { # $1 ref, $2 cache policy id
  aws cloudfront --endpoint-url "http://127.0.0.1:$API" create-distribution --query Distribution.DomainName --output text \
    --distribution-config "{\"CallerReference\":\"$1\",\"Comment\":\"\",\"Enabled\":true,
    \"Origins\":{\"Quantity\":1,\"Items\":[{\"Id\":\"o\",\"DomainName\":\"127.0.0.1\",\"OriginPath\":\"/v1\",
      \"CustomOriginConfig\":{\"HTTPPort\":$ORIGIN,\"HTTPSPort\":443,\"OriginProtocolPolicy\":\"http-only\"}}]},
    \"DefaultCacheBehavior\":{\"TargetOriginId\":\"o\",\"ViewerProtocolPolicy\":\"allow-all\",\"CachePolicyId\":\"$2\"}}"
}
CACHED=$(mkdist cached 658327ea-f89d-4fab-a63d-7e88639e58f6)
UNCACHED=$(mkdist uncached 4135ea2d-6df8-44a3-9df3-4b5a84be39ad)
for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $UNCACHED" "http://127.0.0.1:$EDGE/obj.txt")" = 200 ] && break; sleep 0.05; done
curl -s -o /dev/null -H "Host: $CACHED" "http://127.0.0.1:$EDGE/obj.txt"
curl -s -D - -o /dev/null -H "Host: $CACHED" "http://127.0.0.1:$EDGE/obj.txt" | grep -qi "X-Cache: Hit" || { echo "edge did not cache the object:"; curl -s -D - -H "Host: $CACHED" "http://127.0.0.1:$EDGE/obj.txt"; exit 1; }

rps() { wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
echo "wrk -t$THREADS -c$CONNS -d$DURATION, 1 KiB object, loopback, $(nproc) cores"
E1=$(rps -H "Host: $CACHED" "http://127.0.0.1:$EDGE/obj.txt")
N1=$(rps "http://127.0.0.1:$NGX_STATIC/v1/obj.txt")
E2=$(rps -H "Host: $UNCACHED" "http://127.0.0.1:$EDGE/obj.txt")
N2=$(rps "http://127.0.0.1:$NGX_PROXY/v1/obj.txt")
printf '%-34s %12s req/s\n' "edge, cached object" "$E1" "nginx, static file" "$N1" "edge, cache miss (CachingDisabled)" "$E2" "nginx, proxy_pass" "$N2"
python3 -c "print('cached: edge/nginx = %.2fx (goal >= 1.0x); proxy: edge/nginx = %.2fx' % ($E1/$N1, $E2/$N2))"

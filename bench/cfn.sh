#!/usr/bin/env bash
# CloudFormation deploy time: `aws cloudformation deploy` of the article's
# header template (verbatim, cmd/stagefront/testdata/cfn/staging-header.yml),
# start to exit, on a fresh `stagefront serve`. The primary distribution and
# origin access control come from a first deploy (not timed). Also times a
# bare `aws --version`, the CLI's own start-up, and the span from the CLI's
# first request to its stack waiter's success (from `--debug` timestamps):
# the part the server and the round trips take.
# ROUNDS (default 5) fresh servers; prints each time and the median.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
go build -o "$WORK/stagefront" ./cmd/stagefront
source scripts/lib/port.sh
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }
export STAGEFRONT_ACCESS_KEY_ID=AKSFBENCH0000000001 STAGEFRONT_SECRET_ACCESS_KEY=bench-secret
export AWS_ACCESS_KEY_ID=$STAGEFRONT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$STAGEFRONT_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
SF=""
trap 'kill $SF 2>/dev/null || true; rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2-$1:.2f}')"; }
median() { python3 -c "import statistics,sys;print(f'{statistics.median(map(float,sys.argv[1:])):.2f}')" "$@"; }
TEMPLATES=cmd/stagefront/testdata/cfn
deploys=(); clis=(); spans=()
for round in $(seq "${ROUNDS:-5}"); do
  API=$(free_port); EDGE=$(free_port); ADMIN=$(free_port)
  "$WORK/stagefront" serve --data-dir "$WORK/data$round" --api-addr "127.0.0.1:$API" --edge-addr "127.0.0.1:$EDGE" \
    --admin-addr "127.0.0.1:$ADMIN" --log-level warn 2>"$WORK/sf$round.log" &
  SF=$!
  wait_port "$API"
  EP=(--endpoint-url "http://127.0.0.1:$API")
  aws cloudformation deploy "${EP[@]}" --template-file "$TEMPLATES/primary.yml" --stack-name primary \
    --parameter-overrides BucketName=site >/dev/null
  read -r PD OAC < <(aws cloudformation describe-stacks "${EP[@]}" --stack-name primary --output text \
    --query "[Stacks[0].Outputs[?OutputKey=='PrimaryDistributionId'].OutputValue | [0], Stacks[0].Outputs[?OutputKey=='OriginAccessControlId'].OutputValue | [0]]")
  t0=$(now)
  aws --version >/dev/null 2>&1
  t1=$(now)
  aws cloudformation deploy "${EP[@]}" --template-file "$TEMPLATES/staging-header.yml" --stack-name cd-staging \
    --parameter-overrides "PrimaryDistributionId=$PD" StaticResourceBucketName=site "OriginAccessControlId=$OAC" \
    --debug >/dev/null 2>"$WORK/debug$round.log"
  t2=$(now)
  span=$(python3 - "$WORK/debug$round.log" <<'PY'
import re, sys, datetime
ts = lambda line: datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
lines = open(sys.argv[1]).read().splitlines()
first = next(ts(l) for l in lines if "Making request for OperationModel" in l)
last = [ts(l) for l in lines if "waiter matched the success state" in l][-1]
print(f"{(last - first).total_seconds():.2f}")
PY
)
  clis+=("$(elapsed "$t0" "$t1")"); deploys+=("$(elapsed "$t1" "$t2")"); spans+=("$span")
  echo "round $round: deploy ${deploys[-1]} s, of which requests ${span} s (aws --version alone: ${clis[-1]} s)"
  kill "$SF"; wait "$SF" 2>/dev/null || true; SF=""
done
echo "median deploy: $(median "${deploys[@]}") s; median first request → stack complete: $(median "${spans[@]}") s; median CLI start-up: $(median "${clis[@]}") s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"

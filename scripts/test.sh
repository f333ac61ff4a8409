#!/usr/bin/env bash
# The project's test command: formatting, generated code, go vet (every
# analyzer), staticcheck, unit and integration tests with every fuzz
# target's seed corpus and every benchmark run once, the AWS CLI acceptance
# script against a freshly started `stagefront serve`, and the README's
# quick start.
#
# After the quick checks, one go command compiles every package and test
# binary (and vets them); then three jobs run at once, each into its own log:
# staticcheck, go test ./..., and the acceptance scripts. Most test time is
# spent waiting (subprocesses, sockets, timers), so overlapping them keeps a
# run on 2 cores short. Each log is printed whole, in that order, with how
# long each job took, and the run fails if any job failed.
#
# go vet runs inside go test (-vet=all: the same analyzers as `go vet`, on
# each package with its tests), so no package is type-checked twice; the
# few packages without tests are vetted on their own.
#
# Fuzzing: `go test` runs each fuzz target over its seed corpus (the f.Add
# seeds and testdata/fuzz) on every run. Mutation fuzzing builds every
# package again with coverage instrumentation, which costs more than the
# rest of CI on 2 cores, so it is a separate command (before a release, or
# after touching a parser):
#   bash scripts/fuzz.sh                 # every target, FUZZTIME executions each (default 200000x)
#   go test -run='^$' -fuzz='^FuzzName$' -fuzztime=10m ./internal/pkg
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"
# Where python3 and aws come from pyenv, each call goes through its shim (a
# bash script, then `pyenv exec`): about 0.3 s of CPU per call, and a run
# makes some 200 of them. Put the executables the shims resolve to first.
# (Only a pyenv-installed version: a "system" one is already on PATH, and
# putting /usr/bin first could shadow other tools.)
if command -v pyenv >/dev/null 2>&1; then
  for tool in aws python3; do
    if real=$(pyenv which "$tool" 2>/dev/null) && [[ $real == "$(pyenv root)/versions/"* ]]; then
      dir=$(dirname "$real")
      [[ $PATH == "$dir:"* ]] || PATH="$dir:$PATH"
    fi
  done
fi
# cmd/stagefront/default.pgo (bench/pgo.sh) makes `go build` of the binary
# profile-guided; `go test ./cmd/stagefront` would apply it too and compile
# every package a second time, for speed the tests do not measure. The
# profile only steers the compiler's optimizations, so tests build without
# it; its format is checked below, as a build would check it.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-pgo=off"
START=$(date +%s)
elapsed() { echo "$(( $(date +%s) - START ))s"; }

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== generated code is current"
# go generate must reproduce the committed files exactly (the first line of
# internal/cloudfront/shapes_gen.go names the botocore version it needs).
before=$(git ls-files -z '*.go' | xargs -0 sha256sum)
go generate ./...
after=$(git ls-files -z '*.go' | xargs -0 sha256sum)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") || true
  echo "go generate changed the files above: commit the regenerated code."
  echo "installed botocore: $(python3 -c 'import botocore;print(botocore.__version__)' 2>&1);" \
    "committed: $(head -1 internal/cloudfront/shapes_gen.go)"
  exit 1
fi

echo "== cmd/stagefront/default.pgo is a profile the go command reads"
go tool preprofile -i cmd/stagefront/default.pgo -o /dev/null

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

lint() {
  if ! command -v staticcheck >/dev/null 2>&1; then
    echo "staticcheck not installed (bash .ci/run installs it)"; return 1
  fi
  staticcheck ./...
  # go test vets every package that has tests; these have none.
  go vet $(go list -f '{{if and (not .TestGoFiles) (not .XTestGoFiles)}}{{.ImportPath}}{{end}}' ./...)
}


acceptance() {
  bash scripts/cli-acceptance.sh
  bash scripts/quickstart.sh
}

echo "== build every package and test binary once, with go vet ($(elapsed))"
# One go command compiles everything first. Started cold and side by side,
# staticcheck, go test and the acceptance scripts' go build would each
# compile the same packages (the build cache does not share work in
# flight), three times over on a fresh machine. Vet findings stop here.
go test -count=1 -vet=all -run='^$' ./... > "$LOGS/build" 2>&1 || { cat "$LOGS/build"; echo "FAILED: build/vet"; exit 1; }
echo "   ($(elapsed))"

echo "== staticcheck, go test (fuzz seeds, benchmarks once), acceptance: in parallel ($(elapsed))"
names=(lint test acceptance)
# timed NAME CMD...: runs CMD and ends its log with how long it took, so a
# slow job is visible when the total nears CI's budget.
timed() {
  local name=$1 t0 rc=0; shift; t0=$(date +%s)
  "$@" || rc=$?
  echo "-- $name took $(( $(date +%s) - t0 ))s (exit $rc)"
  return $rc
}
( timed lint lint ) >"$LOGS/lint" 2>&1 & pids=($!)
# The test job also runs every benchmark once (1 iteration), in the same
# test binaries: a benchmark that no longer runs is caught here, not when
# someone next measures, and no second go test -bench run links them again.
# -p 4: most packages' tests wait on sockets, subprocesses and timers,
# so four test binaries at once overlap their waits on 2 cores.
( timed test go test -count=1 -vet=all -p 4 -bench . -benchtime 1x ./... ) >"$LOGS/test" 2>&1 & pids+=($!)
( timed acceptance acceptance ) >"$LOGS/acceptance" 2>&1 & pids+=($!)
failed=()
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
done
for n in "${names[@]}"; do
  echo "== $n"
  cat "$LOGS/$n"
done
echo "== job times"
for n in "${names[@]}"; do tail -1 "$LOGS/$n"; done
echo "== elapsed: $(elapsed)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi

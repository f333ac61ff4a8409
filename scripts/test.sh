#!/usr/bin/env bash
# The project's test command (README quick start): formatting, vet,
# staticcheck, unit and integration tests, short fuzz runs, and the AWS CLI
# acceptance script against a freshly started `stagefront serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
if command -v staticcheck >/dev/null 2>&1; then
  staticcheck ./...
else
  echo "staticcheck not installed (bash .ci/run installs it)"; exit 1
fi

echo "== go test"
go test -count=1 ./...

echo "== fuzz (short)"
# A count, not a duration: Go 1.26's fuzz coordinator can fail a duration-bounded
# run with a spurious "context deadline exceeded" (golang/go#75804).
fuzz() { go test -run='^$' -fuzz="^$2\$" -fuzztime="${FUZZTIME:-20000x}" "$1"; }
while read -r pkg target; do
  [ -n "$pkg" ] && fuzz "$pkg" "$target"
done < <(grep -rl --include='*_test.go' '^func Fuzz' internal | while read -r f; do
  for t in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do echo "./$(dirname "$f") $t"; done
done)

echo "== AWS CLI acceptance (spec §5)"
bash scripts/cli-acceptance.sh

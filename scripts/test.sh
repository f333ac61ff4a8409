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

echo "== AWS CLI acceptance"
bash scripts/cli-acceptance.sh

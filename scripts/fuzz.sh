#!/usr/bin/env bash
# Mutation fuzzing of every fuzz target in the repository, one after the
# other, FUZZTIME each (default 200000x executions: a count, because Go
# 1.26 can fail a duration-bounded run with a spurious "context deadline
# exceeded", golang/go#75804).
# `go test ./...` (and so CI) already runs every target's seed corpus; this
# is the long run, for before a release or after changing a parser that
# faces viewers or API callers. A failure leaves its input under the
# package's testdata/fuzz/ (commit it: it becomes a seed).
#   bash scripts/fuzz.sh
#   FUZZTIME=2000000x bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
status=0
while read -r pkg target; do
  [ -n "$pkg" ] || continue
  echo "== $pkg $target (${FUZZTIME:-200000x})"
  go test -run='^$' -fuzz="^$target\$" -fuzztime="${FUZZTIME:-200000x}" "$pkg" || status=1
done < <(grep -rl --include='*_test.go' '^func Fuzz' internal cmd 2>/dev/null | sort | while read -r f; do
  for t in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do echo "./$(dirname "$f") $t"; done
done)
exit $status

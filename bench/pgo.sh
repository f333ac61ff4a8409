#!/usr/bin/env bash
# Regenerates cmd/stagefront/default.pgo, the CPU profile that `go build`
# and `go install` of ./cmd/stagefront use for profile-guided optimization
# (https://go.dev/doc/pgo: with -pgo=auto, the default, the go command
# applies a main package's default.pgo to every package the binary is
# built from; the profile only changes how the compiler inlines and
# devirtualizes, never what the program does).
#
# The profile is the edge's own CPU profile (its /debug/pprof/profile on
# the admin address) under bench/edge.sh's three workloads: a cached hit,
# a cached hit with access logging on, and an uncached miss through the
# event loops; each measurement of each round adds one profile, and
# `go tool pprof -proto` merges them. Go documents that a profile of a
# binary built with an older profile serves as well, so regenerating from
# the PGO-built binary is fine; refresh it after large changes to the
# request path. Needs what bench/edge.sh needs (wrk and nginx).
#   bash bench/pgo.sh                    # ROUNDS=3 DURATION=10s
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
PROFILE="$DIR" ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10s} bash bench/edge.sh
go tool pprof -proto "$DIR"/*.pprof > "$DIR/merged.pgo"
# The go command's own check of a profile (what a build runs first).
go tool preprofile -i "$DIR/merged.pgo" -o /dev/null
mv "$DIR/merged.pgo" cmd/stagefront/default.pgo
echo "wrote cmd/stagefront/default.pgo from $(ls "$DIR"/*.pprof | wc -l) profiles"

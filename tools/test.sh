#!/usr/bin/env bash
# tools/test.sh: the project's test command. Runs vet and every test, including
# the multi-process tests that start real reference nodes on loopback.
#
#   tools/test.sh            everything
#   tools/test.sh -short     unit tests only (skips multi-process and long tests)
#
# Extra arguments are passed to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...

echo "== go test"
# -p 2: the reference machines have two cores; multi-process tests start many nodes.
go test -p 2 -timeout 55m -count=1 "$@" ./...

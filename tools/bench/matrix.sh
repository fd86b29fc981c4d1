#!/usr/bin/env bash
# Matrix benchmark: wall time of a 12-job matrix of 30 s smoke scenarios
# (smoke_matrix.star) with --parallel N (default 4), against 12 times the
# wall time of one of its jobs run alone. Usage: tools/bench/matrix.sh [N]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
parallel=${1:-4}
out=$(mktemp -d /tmp/nomosrun-bench-matrix.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3)"
(cd "$root" && go build -o "$out/nomosrun" ./cmd/nomosrun)
scenario=$root/tools/bench/smoke_matrix.star

secs() { date +%s.%N; }

t0=$(secs)
"$out/nomosrun" run "$scenario" --set validators=2 --set slot=1s >/dev/null 2>&1
t1=$(secs)
one=$(echo "$t1 - $t0" | bc)

t0=$(secs)
code=0
"$out/nomosrun" matrix "$scenario" --parallel "$parallel" --run-dir "$out/matrix" >"$out/table.txt" 2>"$out/progress.txt" || code=$?
t1=$(secs)
all=$(echo "$t1 - $t0" | bc)

cat "$out/table.txt"
printf 'one job alone (validators=2, slot=1s):  %6.1f s\n' "$one"
printf '12 x one job:                            %6.1f s\n' "$(echo "12 * $one" | bc)"
printf '12-job matrix, --parallel %d:            %6.1f s (exit %d)\n' "$parallel" "$all" "$code"
printf 'speed-up:                                %6.2f x\n' "$(echo "12 * $one / $all" | bc -l)"

#!/usr/bin/env bash
# Kubernetes figures: test-cluster up and down times, then the k8s runner's
# benchmarks on it (start to 4 and 20 nodes answering, restart of one node).
# Needs root and the built binaries (tools/k8s/build.sh). Restarts the test
# cluster: do not run it while tests use it. Leaves the cluster down.
#
#   tools/bench/k8s.sh [RUNS]      RUNS up/down cycles (default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/k8s/env.sh
runs=${1:-3}
img=$(mktemp -d)
trap 'rm -rf "$img"; tools/k8s/down.sh >/dev/null' EXIT
go run ./cmd/nomosrun image save -o "$img/node.tar" >/dev/null
now() { date +%s.%N; }
tools/k8s/down.sh >/dev/null
for i in $(seq 1 "$runs"); do
	t0=$(now)
	tools/k8s/up.sh "$img/node.tar" >/dev/null
	t1=$(now)
	# "warm": up.sh again on a running cluster (CI re-running its hook).
	tools/k8s/up.sh "$img/node.tar" >/dev/null
	t2=$(now)
	tools/k8s/down.sh >/dev/null
	t3=$(now)
	printf 'cycle %d: up from empty state %.1fs, up again while running %.1fs, down %.1fs\n' "$i" \
		"$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)"
done
tools/k8s/up.sh "$img/node.tar" >/dev/null
KUBECONFIG=$K8S_DIR/kubeconfig go test -run '^$' -bench 'Deploy4|Deploy20|Restart' -benchtime 3x ./runners/k8s

#!/usr/bin/env bash
# Multi-process figures of nomosrun on the host runner: readiness of ten
# nodes, overhead of a 30 s smoke run, a 100-validator scenario with a
# transaction workload, and the runner's own memory and CPU while it drives
# about 1,000 tx/s, and the same start-to-ready and smoke figures for four
# CometBFT nodes against four reference nodes, on the host and compose runners.
# And start-to-ready on compose with docker-compose v1 against the v2 plugin.
# Usage: tools/bench/run.sh [ready|smoke|hundred|hooks|tx|kinds|compose-cli|all]...
# See tools/bench/README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$root/tools/bench
out=$(mktemp -d /tmp/nomosrun-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
tck=$(getconf CLK_TCK)

echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3)"
(cd "$root" && go build -o "$out/nomosrun" ./cmd/nomosrun)

# sample PID FILE: every 200 ms, append "epoch_s rss_kib cpu_s" of PID
# (CPU = user + system time of that process only, not of the nodes).
sample() {
	local pid=$1 file=$2
	while [ -r "/proc/$pid/stat" ]; do
		local stat rss
		stat=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null) || break
		rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
		[ -n "$rss" ] || break
		# Fields after "pid (comm)": state is 1, utime 12, stime 13.
		echo "$(date +%s.%N) $rss $(echo "$stat" | awk -v t="$tck" '{printf "%.2f", ($12+$13)/t}')" >>"$file"
		sleep 0.2
	done
}

# run NAME STAR [ARGS...]: run a scenario, keep its report in $out/NAME,
# the samples in $out/NAME.samples and the wall time in $out/NAME.wall.
run() {
	local name=$1 star=$2
	shift 2
	local t0 t1
	t0=$(date +%s.%N)
	"$out/nomosrun" run "$star" --run-dir "$out/$name" "$@" >"$out/$name.log" 2>&1 &
	local pid=$!
	sample "$pid" "$out/$name.samples" &
	local sampler=$!
	wait "$pid" || true
	t1=$(date +%s.%N)
	wait "$sampler" || true
	echo "$t1 - $t0" | bc -l >"$out/$name.wall"
}

# phase NAME PHASE: offset of PHASE in seconds from the run's start.
phase() {
	jq -r --arg p "$2" '.timeline[] | select(.kind == "phase" and .name == $p) | .at' "$out/$1/report.json" | head -1 | to_seconds
}

# to_seconds converts a Go duration ("1.5s", "340ms", "2m3.1s") to seconds.
to_seconds() {
	awk '{ s = $0; t = 0
		if (match(s, /[0-9.]+m[^s]/)) { t += substr(s, RSTART, RLENGTH - 2) * 60; s = substr(s, RSTART + RLENGTH - 1) }
		if (s ~ /µs$/) t += s / 1e6; else if (s ~ /ms$/) t += s / 1e3; else if (s ~ /ns$/) t += s / 1e9; else if (s ~ /s$/) t += s + 0
		printf "%.3f\n", t }'
}

outcome() { jq -r '.outcome' "$out/$1/report.json"; }

ready() {
	echo "== start to all 10 nodes ready (deploy + HTTP + network readiness; target < 3 s)"
	local all=()
	for i in 1 2 3 4 5; do
		run "ready$i" "$bench/ten.star"
		all+=("$(phase "ready$i" capture)")
	done
	printf '%s\n' "${all[@]}" | sort -n | awk '{v[NR] = $1} END {printf "runs %d: min %.2f s, median %.2f s, max %.2f s\n", NR, v[1], v[int((NR + 1) / 2)], v[NR]}'
}

smoke() {
	echo "== 30 s smoke run (examples/quickstart.star) overhead beyond 30 s (target < 5 s)"
	run smoke "$root/examples/quickstart.star"
	local wall ready cool evaluate teardown
	wall=$(cat "$out/smoke.wall")
	ready=$(phase smoke capture)
	cool=$(phase smoke cooldown)
	evaluate=$(phase smoke evaluate)
	teardown=$(phase smoke teardown)
	awk -v w="$wall" -v r="$ready" -v c="$cool" -v e="$evaluate" -v t="$teardown" -v o="$(outcome smoke)" 'BEGIN {
		printf "outcome %s, process wall %.2f s, overhead %.2f s\n", o, w, w - 30
		printf "  to ready %.2f s, window end to evaluate %.2f s, evaluate to teardown %.2f s, teardown and exit %.2f s\n", r, e - c, t - e, w - t }'
}

hundred() {
	echo "== 100 validators with a transaction workload (tools/bench/hundred.star: slot 2s, 200 wallets, rate 5, 60 s)"
	run hundred "$bench/hundred.star" "$@"
	jq -r '"outcome \(.outcome), duration \(.duration), chain height \(.chain.height), txs in chain \(.chain.transactions), nodes min/max height \([.nodes[].height] | min)/\([.nodes[].height] | max)"' "$out/hundred/report.json"
	jq -r '.workloads[] | "workload \(.id): \(.counts)"' "$out/hundred/report.json"
	jq -r '.expectations[] | "  \(if .passed then "ok  " else "FAIL" end) \(.name) \(.message // "")"' "$out/hundred/report.json"
	echo "ready after $(phase hundred capture) s"
}

hooks() {
	echo "== an on_block hook reading every transaction, 100 validators, 500 ms slots (tools/bench/hooks100.star; target: lag < one block interval)"
	run hooks "$bench/hooks100.star" "$@"
	jq -r '"outcome \(.outcome), chain height \(.chain.height), txs in chain \(.chain.transactions), block interval \(.expected_blocks) expected"' "$out/hooks/report.json"
	jq -r '.hooks.hooks[] | "hook \(.id) \(.func): \(.calls) calls, busy \(.busy) in all"' "$out/hooks/report.json"
	jq -r '"on_block lag behind the feed: at most \(.hooks.max_lag) and \(.hooks.max_lag_blocks) blocks"' "$out/hooks/report.json"
	"$out/nomosrun" plan "$bench/hooks100.star" --json | jq -r '"planned block interval \(.derived.block_interval)"'
}

tx() {
	echo "== runner memory and CPU while driving a planned 1,000 tx/s (tools/bench/tx1000.star)"
	run tx "$bench/tx1000.star"
	local window cool settle started
	# The workload submits from the window's start through the cooldown;
	# the window starts RunDuration before the cooldown phase.
	window=$("$out/nomosrun" plan "$bench/tx1000.star" --json | jq -r '.derived.run_duration' | to_seconds)
	cool=$(phase tx cooldown)
	settle=$(phase tx settle)
	started=$(jq -r '.started' "$out/tx/report.json" | xargs -I{} date -d {} +%s.%N)
	jq -r '"outcome \(.outcome), workload \(.workloads[0].counts), txs in chain \(.chain.transactions)"' "$out/tx/report.json"
	awk -v a="$(echo "$started + $cool - $window" | bc -l)" -v b="$(echo "$started + $settle" | bc -l)" -v w="$window" \
		-v subm="$(jq -r '.workloads[0].counts.submitted' "$out/tx/report.json")" -v late="$(jq -r '.workloads[0].counts.late' "$out/tx/report.json")" '
		$1 >= a && $1 <= b { if (!n) { t0 = $1; c0 = $3 } t1 = $1; c1 = $3; if ($2 > peak) peak = $2; n++ }
		END {
			if (n < 2) { print "too few samples in the window"; exit }
			printf "%d submitted, planned over a %.1f s window (%.0f tx/s), %d handed over more than 100 ms late\n", subm, w, subm / w, late
			printf "over window + cooldown (%.1f s): runner RSS peak %.1f MiB; runner CPU %.2f s = %.0f%% of one core\n",
				b - a, peak / 1024, c1 - c0, 100 * (c1 - c0) / (t1 - t0) }' "$out/tx.samples"
	awk 'NR == 1 || $2 > peak { peak = $2 } END { printf "runner RSS peak over the whole run %.1f MiB\n", peak / 1024 }' "$out/tx.samples"
}

kinds() {
	echo "== four validators, CometBFT against the reference node (tools/bench/four.star, 20 s window; 5 runs each)"
	local runner node i
	for runner in host compose; do
		for node in reference cometbft; do
			local ready=() over=()
			for i in 1 2 3 4 5; do
				run "$runner-$node-$i" "$bench/four.star" --runner "$runner" --set "node=$node"
				[ "$(outcome "$runner-$node-$i")" = passed ] || { echo "$runner $node run $i: $(outcome "$runner-$node-$i")"; tail -5 "$out/$runner-$node-$i.log"; }
				ready+=("$(phase "$runner-$node-$i" capture)")
				over+=("$(echo "$(cat "$out/$runner-$node-$i.wall") - 20" | bc -l)")
			done
			printf '%s\n' "${ready[@]}" | sort -n | awk -v r="$runner" -v n="$node" '{v[NR] = $1} END {
				printf "%-8s %-10s start to ready: min %.2f s, median %.2f s, max %.2f s\n", r, n, v[1], v[int((NR + 1) / 2)], v[NR]}'
			printf '%s\n' "${over[@]}" | sort -n | awk '{v[NR] = $1} END {
				printf "                    overhead beyond the 20 s window: min %.2f s, median %.2f s, max %.2f s\n", v[1], v[int((NR + 1) / 2)], v[NR]}'
		done
	done
}

compose_cli() {
	echo "== four reference nodes on compose: start to ready with docker-compose v1 and the docker compose v2 plugin (5 runs each)"
	local cli i
	for cli in docker-compose "docker compose"; do
		local ready=()
		for i in 1 2 3 4 5; do
			NOMOS_COMPOSE_CLI=$cli run "cli-${cli// /-}-$i" "$bench/four.star" --runner compose
			[ "$(outcome "cli-${cli// /-}-$i")" = passed ] || echo "$cli run $i: $(outcome "cli-${cli// /-}-$i")"
			ready+=("$(phase "cli-${cli// /-}-$i" capture)")
		done
		printf '%s\n' "${ready[@]}" | sort -n | awk -v c="$cli $($cli version --short)" '{v[NR] = $1} END {
			printf "%-28s start to ready: min %.2f s, median %.2f s, max %.2f s\n", c, v[1], v[int((NR + 1) / 2)], v[NR]}'
	done
}

[ $# -gt 0 ] || set -- all
for what in "$@"; do
	case $what in
	ready) ready ;;
	smoke) smoke ;;
	hundred) hundred ;;
	hooks) hooks ;;
	tx) tx ;;
	kinds) kinds ;;
	compose-cli) compose_cli ;;
	all) ready; smoke; tx; hundred ;;
	*) echo "unknown benchmark $what (ready, smoke, hundred, hooks, tx, kinds, compose-cli, all)" >&2; exit 2 ;;
	esac
done

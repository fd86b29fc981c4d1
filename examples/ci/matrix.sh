#!/usr/bin/env bash
# Run a scenario matrix in CI and leave the reports where a CI system can
# publish them: OUT/junit.xml (one <testsuite> per job), OUT/index.html
# linking every job's report.html, OUT/summary.json and OUT/jobs/<id>/.
#
#   examples/ci/matrix.sh SCENARIO [OUT] [extra nomosrun matrix flags...]
#
# Environment:
#   NOMOSRUN   the nomosrun binary (default: built from this checkout)
#   MATRIX     axes, space-separated (default: the scenario's matrix()),
#              e.g. "validators=1,3 tx_rate=2,5"
#   RUNNERS    runners, comma-separated (default host)
#   PARALLEL   jobs at once (default 2)
#   SHARD      i/n to run one shard of the jobs, e.g. "1/4" (default: all)
#
# The exit code is nomosrun's: 0 when every job passed, else the worst job's.
# On GitHub Actions the summary table is added to the job summary.
set -euo pipefail

scenario=${1:?usage: examples/ci/matrix.sh SCENARIO [OUT] [flags...]}
out=${2:-matrix-report}
shift $(($# >= 2 ? 2 : 1))

nomosrun=${NOMOSRUN:-}
if [[ -z $nomosrun ]]; then
	root=$(cd "$(dirname "$0")/../.." && pwd)
	nomosrun=$(mktemp -d)/nomosrun
	(cd "$root" && go build -o "$nomosrun" ./cmd/nomosrun)
fi

runners=${RUNNERS:-host}
for r in ${runners//,/ }; do
	"$nomosrun" doctor --runner "$r"
done

args=(matrix "$scenario" --runner "$runners" --parallel "${PARALLEL:-2}" --run-dir "$out")
for axis in ${MATRIX:-}; do
	args+=(--matrix "$axis")
done
if [[ -n ${SHARD:-} ]]; then
	args+=(--shard "$SHARD")
fi

mkdir -p "$out"
set +e
"$nomosrun" "${args[@]}" "$@" | tee "$out/summary.txt"
code=${PIPESTATUS[0]}
set -e

echo "JUnit XML: $out/junit.xml"
echo "HTML:      $out/index.html"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
	{
		echo "### nomosrun matrix: $scenario${SHARD:+ (shard $SHARD)}"
		echo '```'
		cat "$out/summary.txt"
		echo '```'
	} >>"$GITHUB_STEP_SUMMARY"
fi
exit "$code"

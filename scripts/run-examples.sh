#!/usr/bin/env bash
# run-examples.sh: the Rust framework's one-line entry point. Runs the mixed demo
# (examples/demo.star: transactions, DA when there is an executor, liveness)
# with the given shape on the host, compose or k8s runner:
#
#   scripts/run-examples.sh -t 60 -v 1 -e 1 host|compose|k8s
#
# It builds nomosrun from this checkout (only Go is needed for host), checks
# the runner's prerequisites with nomosrun doctor, builds the node image for
# compose and k8s unless NOMOS_SKIP_IMAGE_BUILD is set, then runs the demo
# with NOMOS_DEMO_VALIDATORS, NOMOS_DEMO_EXECUTORS and NOMOS_DEMO_RUN_SECS.
# Extra arguments after -- go to nomosrun run (e.g. -- --run-dir out).
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: scripts/run-examples.sh [-t SECS] [-v VALIDATORS] [-e EXECUTORS] [--no-image-build] [host|compose|k8s] [-- NOMOSRUN_RUN_FLAGS...]

  -t, --run-seconds SECS   run window in seconds (default 60; a bare number is also taken)
  -v, --validators N       validators (default 1; -n/--nodes is the same)
  -e, --executors N        executors (default 1)
      --no-image-build     use the node image as it is (same as NOMOS_SKIP_IMAGE_BUILD=1)
  host|compose|k8s         the runner (default compose, as in the Rust framework)

Environment: NOMOS_SKIP_IMAGE_BUILD, NOMOS_TESTNET_IMAGE, POL_PROOF_DEV_MODE and every
variable of docs/environment.md.
USAGE
}

die() {
	echo "run-examples.sh: $*" >&2
	exit 2
}

secs=60 validators=1 executors=1 mode=compose
skip_build=${NOMOS_SKIP_IMAGE_BUILD:-}
extra=()
while (($#)); do
	case $1 in
	-t | --run-seconds) secs=${2:?-t needs a number of seconds}; shift 2 ;;
	-v | --validators | -n | --nodes) validators=${2:?$1 needs a count}; shift 2 ;;
	-e | --executors) executors=${2:?-e needs a count}; shift 2 ;;
	--no-image-build) skip_build=1; shift ;;
	-h | --help) usage; exit 0 ;;
	host | compose | k8s) mode=$1; shift ;;
	--) shift; extra=("$@"); break ;;
	*)
		[[ $1 =~ ^[0-9]+$ ]] || { usage >&2; die "unknown argument '$1'"; }
		secs=$1; shift ;;
	esac
done
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] || die "-t wants a positive number of seconds, got '$secs'"
[[ $validators =~ ^[0-9]+$ && $validators -gt 0 ]] || die "-v wants at least one validator, got '$validators'"
[[ $executors =~ ^[0-9]+$ ]] || die "-e wants a count of executors, got '$executors'"
case ${skip_build,,} in "" | 0 | false) skip_build= ;; esac

# nomosrun ignores VERSION, the Rust framework's circuits release; the name is too
# common for nomosrun itself to warn about.
if [[ -n ${VERSION:-} ]]; then
	echo "run-examples.sh: warning: VERSION is ignored: the Rust framework's circuits release; nomosrun generates its KZG test parameters (KZGRS_PARAMS_SHA256 in versions.env pins them)" >&2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v go >/dev/null || die "go is not on PATH: install Go (go.mod names the version) to build nomosrun"
bin=$(mktemp -d "${TMPDIR:-/tmp}/run-examples.XXXXXX")
trap 'rm -rf "$bin"' EXIT
echo "run-examples.sh: building nomosrun" >&2
# Static, so the node image can use nomosrun itself as its node binary.
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$bin/nomosrun" ./cmd/nomosrun)
nomosrun=$bin/nomosrun

if [[ $mode != host ]]; then
	if [[ -n $skip_build ]]; then
		echo "run-examples.sh: NOMOS_SKIP_IMAGE_BUILD: using the node image as it is" >&2
	else
		echo "run-examples.sh: building the node image" >&2
		built=$("$nomosrun" image build)
		echo "$built" >&2
		if [[ $mode == k8s ]]; then
			# The cluster's nodes need the image: kind and minikube load it
			# from Docker; other clusters import the archive on each node.
			image=$(sed -n 's/^built image \([^ ]*\) in .*/\1/p' <<<"$built")
			context=$(kubectl config current-context 2>/dev/null || true)
			case $context in
			kind-*) kind load docker-image --name "${context#kind-}" "$image" ;;
			minikube) minikube image load "$image" ;;
			*)
				mkdir -p "$root/.tmp"
				"$nomosrun" image save -o "$root/.tmp/node-image.tar"
				echo "run-examples.sh: wrote $root/.tmp/node-image.tar; import it on each cluster node (ctr -n k8s.io images import FILE) unless the cluster has it" >&2
				;;
			esac
		fi
	fi
fi

# Prerequisites, each failing one with its fix (exit 6 when one is missing).
"$nomosrun" doctor --runner "$mode" >&2

export NOMOS_DEMO_VALIDATORS=$validators NOMOS_DEMO_EXECUTORS=$executors NOMOS_DEMO_RUN_SECS=$secs
export POL_PROOF_DEV_MODE=${POL_PROOF_DEV_MODE:-true}
echo "run-examples.sh: demo on $mode: $validators validators, $executors executors, ${secs}s" >&2
"$nomosrun" run "$root/examples/demo.star" --runner "$mode" "${extra[@]}"

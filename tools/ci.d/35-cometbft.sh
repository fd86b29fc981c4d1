#!/usr/bin/env bash
# The cometbft node kind's binary (host runs, and the image of its compose and k8s
# runs), built from the Go module proxy by tools/cometbft/build.sh and cached.
# up: build it unless cached and export NOMOS_COMETBFT_BIN for the tests.
# down: nothing to clean up (the cache stays, like the k8s build's).
set -euo pipefail
case "${1:-}" in
up)
	bin=$(bash "$(dirname "$0")/../cometbft/build.sh")
	"$bin" version
	echo "export NOMOS_COMETBFT_BIN=$bin" >>"${NOMOS_CI_ENV:-/dev/null}"
	;;
down) ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# tools/cometbft/build.sh: builds the cometbft binary of the cometbft node kind from the
# Go module proxy, at COMETBFT_VERSION of versions.env, static (CGO_ENABLED=0) so the
# same file runs on the host and in an image FROM scratch. Prints the binary's path.
#
#   tools/cometbft/build.sh     build into ~/.cache/nomosrun/cometbft/<version>/ unless there
#
# Cold: about 3 minutes on 2 cores (module download included); cached: instant.
# nomosrun finds the binary there by itself (NOMOS_COMETBFT_BIN overrides it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(sed -n 's/^COMETBFT_VERSION=//p' "$ROOT/versions.env")
[[ -n $VERSION ]] || { echo "cometbft-build: COMETBFT_VERSION missing from versions.env" >&2; exit 1; }
OUT=${XDG_CACHE_HOME:-$HOME/.cache}/nomosrun/cometbft/$VERSION
if [[ -x $OUT/cometbft ]]; then
	echo "$OUT/cometbft"
	exit 0
fi
mkdir -p "$OUT"
echo "cometbft-build: building github.com/cometbft/cometbft $VERSION into $OUT" >&2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# go install pkg@version builds in module mode with the module's own go.mod, outside
# this project's; GOBIN puts the result in a temporary directory first, so an
# interrupted build never leaves a partial binary in the cache.
(cd "$W" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off GOBIN=$W/bin \
	go install -trimpath -ldflags="-s -w" "github.com/cometbft/cometbft/cmd/cometbft@$VERSION")
mv "$W/bin/cometbft" "$OUT/cometbft"
echo "$OUT/cometbft"

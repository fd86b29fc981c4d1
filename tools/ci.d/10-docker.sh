#!/usr/bin/env bash
# Docker engine and Compose CLI (compose runner and node image tests).
# up: install docker.io and docker-compose from Debian if missing, start the
# engine if it does not answer (as a service, else dockerd in the
# background), wait for it, and build the node image from this checkout.
# down: remove what nomosrun runs left (only objects with the io.nomosrun.run
# label) and the node image built by up; stop the engine if up started it.
set -euo pipefail
cd "$(dirname "$0")/../.."

state=${TMPDIR:-/tmp}/nomosrun-ci-docker
bin=$state/nomosrun

wait_engine() {
	local i
	for ((i = 0; i < 60; i++)); do
		docker version >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}

case "${1:-}" in
up)
	mkdir -p "$state"
	need=()
	command -v docker >/dev/null || need+=(docker.io)
	command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
	if ((${#need[@]})); then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	fi
	if ! docker version >/dev/null 2>&1; then
		service docker start >/dev/null 2>&1 || true
		if ! wait_engine; then
			echo "starting dockerd in the background (log: $state/dockerd.log)"
			nohup dockerd >"$state/dockerd.log" 2>&1 &
			echo $! >"$state/dockerd.pid"
			wait_engine || {
				tail -20 "$state/dockerd.log" >&2
				echo "the Docker engine did not answer within 60 s" >&2
				exit 1
			}
		fi
	fi
	docker version --format 'Docker engine {{.Server.Version}} (API {{.Server.APIVersion}})'
	go build -o "$bin" ./cmd/nomosrun
	"$bin" image build
	;;
down)
	if docker version >/dev/null 2>&1; then
		[[ -x $bin ]] || go build -o "$bin" ./cmd/nomosrun
		"$bin" clean || true
		tag=${NOMOS_TESTNET_IMAGE:-$("$bin" version | awk '$1 == "image" { print $2 }')}
		[[ -n $tag ]] && docker image rm "$tag" >/dev/null 2>&1 || true
	fi
	if [[ -f $state/dockerd.pid ]]; then
		kill "$(cat "$state/dockerd.pid")" 2>/dev/null || true
	fi
	rm -rf "$state"
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

#!/usr/bin/env bash
# Docker Compose v2 (the CLI plugin the compose runner prefers), built from the
# Go module proxy at COMPOSE_VERSION (tools/compose/build.sh, cached), and
# Debian's docker-compose v1, which one smoke test keeps exercising.
# up: build v2 unless cached, install it as the Docker CLI plugin unless a
# plugin is already there, install v1 if missing, and print both versions.
# down: remove the plugin if up installed it (the build cache stays).
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
marker=${TMPDIR:-/tmp}/nomosrun-ci-compose-plugin

case "${1:-}" in
up)
	bin=$(bash "$(dirname "$0")/../compose/build.sh")
	if [[ ! -e $plugin ]]; then
		mkdir -p "$(dirname "$plugin")"
		cp "$bin" "$plugin"
		echo "$plugin" >"$marker"
	fi
	command -v docker-compose >/dev/null || apt_install docker-compose
	docker compose version
	docker-compose version --short | sed 's/^/docker-compose (v1) /'
	;;
down)
	if [[ -f $marker ]]; then
		rm -f "$(cat "$marker")" "$marker"
	fi
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

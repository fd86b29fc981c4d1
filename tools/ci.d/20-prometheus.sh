#!/usr/bin/env bash
# Prometheus (metrics integration test: expect_metric through PromQL) and
# xmllint (matrix junit.xml checked against the JUnit schema).
# up: install the Debian packages if missing, without leaving their service
# running: the tests start their own Prometheus as a child process.
# down: nothing to clean up (the tests stop their servers).
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

stop_services() {
	local s
	for s in prometheus prometheus-node-exporter; do
		if [[ -x /etc/init.d/$s ]]; then
			if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
				systemctl disable --now "$s" >/dev/null 2>&1 || true
			else
				service "$s" stop >/dev/null 2>&1 || true
				update-rc.d "$s" disable >/dev/null 2>&1 || true
			fi
		fi
	done
}

case "${1:-}" in
up)
	need=()
	command -v prometheus >/dev/null || need+=(prometheus)
	command -v xmllint >/dev/null || need+=(libxml2-utils)
	apt_install "${need[@]}"
	stop_services
	prometheus --version 2>&1 | head -1
	echo "export NOMOS_PROMETHEUS_BIN=$(command -v prometheus)" >>"${NOMOS_CI_ENV:-/dev/null}"
	;;
down) ;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

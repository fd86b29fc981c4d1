#!/usr/bin/env bash
# A single-node Kubernetes (k8s runner integration tests).
# up: install containerd, runc, the CNI plugins, iptables and conntrack if
# missing; build the control plane once into the cache (tools/k8s/build.sh,
# about 12 minutes cold, instant when cached); start the cluster
# (tools/k8s/up.sh) with the node images imported: the reference node's and
# the cometbft kind's (its binary from tools/cometbft/build.sh, cached);
# export KUBECONFIG.
# down: tools/k8s/down.sh stops it and undoes every host change.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/k8s/env.sh
source tools/ci.d/lib/apt.sh

case "${1:-}" in
up)
	t0=$SECONDS
	need=()
	for p in containerd:containerd runc:runc iptables:iptables conntrack:conntrack openssl:openssl curl:curl; do
		command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
	done
	[[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
	apt_install "${need[@]}"
	t1=$SECONDS
	tools/k8s/build.sh
	t2=$SECONDS
	img=$(mktemp -d)
	go build -o "$img/nomosrun" ./cmd/nomosrun
	"$img/nomosrun" image save -o "$img/node.tar"
	cometbft=$(bash tools/cometbft/build.sh)
	NOMOS_COMETBFT_BIN=$cometbft "$img/nomosrun" image save --node cometbft -o "$img/cometbft.tar"
	tools/k8s/up.sh "$img/node.tar" "$img/cometbft.tar"
	rm -rf "$img"
	echo "k8s: packages $((t1 - t0))s, build $((t2 - t1))s, image and cluster $((SECONDS - t2))s, total $((SECONDS - t0))s"
	echo "export KUBECONFIG=$K8S_DIR/kubeconfig" >>"${NOMOS_CI_ENV:-/dev/null}"
	;;
down)
	tools/k8s/down.sh
	;;
*)
	echo "usage: $0 up|down" >&2
	exit 2
	;;
esac

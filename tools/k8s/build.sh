#!/usr/bin/env bash
# tools/k8s/build.sh: builds the test cluster's control plane and node agent from the
# Go module proxy alone: one multi-call binary k8s-all (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, by symlink name) and etcd,
# plus the pause image the node's pods need. Versions come from versions.env.
#
#   tools/k8s/build.sh          build into $K8S_BIN unless already there
#
# Cold: about 12 minutes of CPU and 4 GB of Go build cache; cached: instant.
set -euo pipefail
source "$(dirname "$0")/env.sh"
OUT=$K8S_BIN
if [ -x "$OUT/k8s-all" ] && [ -x "$OUT/etcd" ] && [ -f "$OUT/pause.tar" ]; then
	echo "k8s-build: cached in $OUT"
	exit 0
fi
V=${KUBERNETES_VERSION#v}                # 1.37.2
STAGING_V=v0.${V#1.}                     # k8s.io/kubernetes v1.X.Y <-> staging modules v0.X.Y
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off

if [ ! -x "$OUT/k8s-all" ]; then
	# A throwaway module: k8s.io/kubernetes maps its staging modules to ./staging, so it
	# cannot be built directly; replace each one by its release of the same version.
	mkdir -p "$W/k8s" && cp "$(dirname "$0")/k8s-all.go.txt" "$W/k8s/main.go" && cd "$W/k8s"
	MOD=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	{
		printf 'module local/k8sbuild\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
		awk -v v="$STAGING_V" '/=> \.\/staging/ {print "\t"$1" => "$1" "v}' "$MOD"
		echo ")"
	} >go.mod
	go mod tidy >/dev/null
	CV=k8s.io/component-base/version
	# The version ldflags matter: without them clients fail to parse the server version.
	go build -trimpath -ldflags="-s -w -X $CV.gitVersion=$KUBERNETES_VERSION -X $CV.gitMajor=1 \
		-X $CV.gitMinor=$(echo "$V" | cut -d. -f2) -X $CV.gitTreeState=clean" -o "$OUT/k8s-all.tmp" .
	mv "$OUT/k8s-all.tmp" "$OUT/k8s-all"
fi
for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do ln -sf k8s-all "$OUT/$c"; done

if [ ! -x "$OUT/etcd" ]; then
	mkdir -p "$W/etcd" && cd "$W/etcd"
	printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >main.go
	go mod init local/etcd >/dev/null 2>&1
	go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
	go mod tidy >/dev/null
	go build -trimpath -ldflags="-s -w" -o "$OUT/etcd.tmp" .
	mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

if [ ! -f "$OUT/pause.tar" ]; then
	# The sandbox image, tagged as containerd's default sandbox_image; built from the
	# project's own module (go-containerregistry) so no registry is involved.
	cd "$K8S_ROOT"
	go run ./tools/k8s/pauseimage -o "$OUT/pause.tar.tmp"
	mv "$OUT/pause.tar.tmp" "$OUT/pause.tar"
fi
echo "k8s-build: built into $OUT"

#!/usr/bin/env bash
# tools/k8s/up.sh: starts a single-node Kubernetes on this host, as root, with no
# registry and with or without a Docker engine: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy from tools/k8s/build.sh,
# on Debian's containerd, runc and CNI plugins (apt-get install containerd runc
# containernetworking-plugins iptables conntrack).
#
#   tools/k8s/up.sh [IMAGE.tar ...]    start (idempotent) and import the image tarballs
#
# Writes $K8S_DIR/kubeconfig. The node address sits on a private bridge; all traffic
# stays on this machine. Stop with tools/k8s/down.sh, which undoes every host change.
set -euo pipefail
source "$(dirname "$0")/env.sh"
R=$K8S_DIR B=$K8S_BIN
[ "$(id -u)" = 0 ] || { echo "k8s-up: must run as root" >&2; exit 1; }
[ -x "$B/k8s-all" ] && [ -x "$B/etcd" ] || { echo "k8s-up: no binaries in $B; run tools/k8s/build.sh" >&2; exit 1; }
for c in containerd runc iptables conntrack openssl; do
	command -v $c >/dev/null || { echo "k8s-up: $c is missing (apt-get install containerd runc containernetworking-plugins iptables conntrack openssl)" >&2; exit 1; }
done
CNI_BIN=${CNI_BIN:-/usr/lib/cni}
[ -x "$CNI_BIN/bridge" ] || { echo "k8s-up: no CNI plugins in $CNI_BIN (apt-get install containernetworking-plugins)" >&2; exit 1; }
mkdir -p "$R"/{pids,logs,pki,cni/net.d,kubelet,containerd,pod-logs}
export KUBECONFIG=$R/kubeconfig CONTAINERD_ADDRESS=$R/containerd/containerd.sock
t0=$(date +%s%N)
ts() { printf '[%5.1fs] %s\n' "$(( ($(date +%s%N) - t0) / 100000000 ))e-1" "$*"; }
running() { [ -f "$R/pids/$1.pid" ] && kill -0 "$(cat "$R/pids/$1.pid")" 2>/dev/null; }
start() {
	local n=$1; shift
	running "$n" && return 0
	nohup "$@" >"$R/logs/$n.log" 2>&1 &
	echo $! >"$R/pids/$n.pid"
}
waitfor() {
	local what=$1 n=$2; shift 2
	for _ in $(seq 1 $((n * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
	echo "k8s-up: timeout waiting for $what; logs in $R/logs" >&2
	exit 1
}
kc() { curl -sf --cacert "$R/pki/ca.crt" -H "Authorization: Bearer $(cut -d, -f1 "$R/pki/tokens.csv")" "https://127.0.0.1:6443$1" "${@:2}"; }

# Node address on a private bridge (kubelet rejects loopback node IPs; no dummy driver here).
ip link show "$NODE_BRIDGE" >/dev/null 2>&1 || {
	ip link add "$NODE_BRIDGE" type bridge
	ip addr add "$NODE_IP/24" dev "$NODE_BRIDGE"
	ip link set "$NODE_BRIDGE" up
}
[ -f "$R/sysctl.orig" ] || sysctl -n net.ipv4.ip_forward net.ipv4.conf.all.route_localnet | tr '\n' ' ' >"$R/sysctl.orig"
# route_localnet lets 127.0.0.1:NodePort reach pods; ip_forward lets pods talk through cni0.
sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.route_localnet=1
# Docker sets the FORWARD policy to DROP: let pod traffic on cni0 through regardless.
for d in -i -o; do iptables -C FORWARD $d cni0 -j ACCEPT 2>/dev/null || iptables -I FORWARD $d cni0 -j ACCEPT; done

# Throwaway PKI: a CA, the API serving cert, the service-account key, a static admin token.
if [ ! -f "$R/pki/tokens.csv" ]; then (
	cd "$R/pki"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=nomosrun-test-ca 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' "$NODE_IP" >san.ext
	openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile san.ext 2>/dev/null
	openssl genrsa -out sa.key 2048 2>/dev/null
	openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
	echo "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n'),admin,admin,system:masters" >tokens.csv
); fi
cat >"$R/kubeconfig" <<EOT
apiVersion: v1
kind: Config
clusters: [{name: nomosrun-test, cluster: {server: "https://127.0.0.1:6443", certificate-authority: "$R/pki/ca.crt"}}]
users: [{name: admin, user: {token: "$(cut -d, -f1 "$R/pki/tokens.csv")"}}]
contexts: [{name: nomosrun-test, context: {cluster: nomosrun-test, user: admin}}]
current-context: nomosrun-test
EOT
ts "pki ready"

start etcd "$B/etcd" --name local --data-dir "$R/etcd" --listen-client-urls http://127.0.0.1:2379 \
	--advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
	--initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster local=http://127.0.0.1:2380 --unsafe-no-fsync
# --endpoint-reconciler-type=none: the API listens on loopback only, and pods never call it.
start kube-apiserver "$B/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --secure-port=6443 \
	--advertise-address="$NODE_IP" --tls-cert-file="$R/pki/apiserver.crt" --tls-private-key-file="$R/pki/apiserver.key" \
	--client-ca-file="$R/pki/ca.crt" --token-auth-file="$R/pki/tokens.csv" \
	--service-account-issuer=https://kubernetes.default.svc.cluster.local \
	--service-account-key-file="$R/pki/sa.pub" --service-account-signing-key-file="$R/pki/sa.key" \
	--service-cluster-ip-range=10.96.0.0/24 --authorization-mode=RBAC --allow-privileged=true \
	--endpoint-reconciler-type=none --kubelet-preferred-address-types=InternalIP
waitfor "kube-apiserver /readyz" 120 kc /readyz
ts "kube-apiserver ready"

K=$R/kubeconfig
start kube-controller-manager "$B/kube-controller-manager" --kubeconfig="$K" --authentication-kubeconfig="$K" \
	--authorization-kubeconfig="$K" --leader-elect=false --bind-address=127.0.0.1 --secure-port=10257 \
	--service-account-private-key-file="$R/pki/sa.key" --root-ca-file="$R/pki/ca.crt" \
	--use-service-account-credentials=false --allocate-node-cidrs=true --cluster-cidr=10.244.0.0/16 \
	--node-cidr-mask-size=24 --service-cluster-ip-range=10.96.0.0/24 --enable-hostpath-provisioner=true
start kube-scheduler "$B/kube-scheduler" --kubeconfig="$K" --authentication-kubeconfig="$K" --authorization-kubeconfig="$K" \
	--leader-elect=false --bind-address=127.0.0.1 --secure-port=10259

# containerd of its own (socket, root, state under $R), separate from any Docker engine's.
# restrict_oom_score_adj: without CAP_SYS_RESOURCE runc cannot give the sandbox oom_score_adj=-998.
cat >"$R/containerd/config.toml" <<EOT
version = 2
root = "$R/containerd/root"
state = "$R/containerd/state"
[grpc]
  address = "$R/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10.1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$R/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$R/cni/net.d"
EOT
cat >"$R/cni/net.d/10-nomosrun.conflist" <<EOT
{"cniVersion": "1.0.0", "name": "nomosrun", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$R/cni/ipam", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
EOT
start containerd containerd --config "$R/containerd/config.toml"
waitfor containerd 30 ctr version
for t in "$B/pause.tar" "$@"; do ctr -n k8s.io images import "$t" >/dev/null; done
ts "containerd ready, images: $(ctr -n k8s.io images ls -q | grep -v sha256: | tr '\n' ' ')"

cat >"$R/kubelet/config.yaml" <<EOT
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$R/containerd/containerd.sock
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
clusterDomain: cluster.local
failSwapOn: false
podLogsDir: $R/pod-logs
serializeImagePulls: false
maxPods: 110
evictionHard: {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOT
start kubelet "$B/kubelet" --config="$R/kubelet/config.yaml" --kubeconfig="$K" --root-dir="$R/kubelet/root" \
	--cert-dir="$R/kubelet/pki" --node-ip="$NODE_IP" --hostname-override=nomosrun-node
start kube-proxy "$B/kube-proxy" --kubeconfig="$K" --proxy-mode=iptables --cluster-cidr=10.244.0.0/16 \
	--hostname-override=nomosrun-node --conntrack-max-per-core=0 --metrics-bind-address=127.0.0.1:10249 \
	--healthz-bind-address=127.0.0.1:10256
nodeReady() { kc /api/v1/nodes/nomosrun-node | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'; }
waitfor "node Ready" 120 nodeReady
waitfor "default ServiceAccount" 60 kc /api/v1/namespaces/default/serviceaccounts/default
# A default StorageClass, so node data survives pod restarts: the controller-manager's
# built-in host-path provisioner makes (and deletes) directories under /tmp/hostpath_pv.
kc /apis/storage.k8s.io/v1/storageclasses/local >/dev/null || kc /apis/storage.k8s.io/v1/storageclasses -X POST \
	-H 'Content-Type: application/json' -d '{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
	"metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
	"provisioner": "kubernetes.io/host-path", "reclaimPolicy": "Delete"}' >/dev/null
ts "node Ready; export KUBECONFIG=$R/kubeconfig"

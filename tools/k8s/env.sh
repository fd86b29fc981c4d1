# tools/k8s/env.sh: shared settings of the test-cluster scripts (sourced, not run).
# Versions come from versions.env; every path can be overridden from the environment.
K8S_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_pin() { sed -n "s/^$1=//p" "$K8S_ROOT/versions.env"; }
KUBERNETES_VERSION=${KUBERNETES_VERSION:-$(_pin KUBERNETES_VERSION)}
ETCD_VERSION=${ETCD_VERSION:-$(_pin ETCD_VERSION)}
# Binaries are cached per version and reused across clusters and checkouts.
K8S_BIN=${K8S_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/nomosrun/k8s/$KUBERNETES_VERSION}
# Cluster state (PKI, etcd data, containerd root, logs); removed by down.sh.
K8S_DIR=${K8S_DIR:-${TMPDIR:-/tmp}/nomosrun-k8s}
# Node address, put on a private bridge: kubelet rejects loopback node IPs.
NODE_IP=${NODE_IP:-10.250.0.1}
NODE_BRIDGE=${NODE_BRIDGE:-nomos0}

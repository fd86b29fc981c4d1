#!/usr/bin/env bash
# tools/k8s/down.sh: stops the cluster tools/k8s/up.sh started and undoes its host
# changes: processes (only the PIDs it recorded), containers, mounts, network
# namespaces, the bridges, iptables rules and chains, cgroups, and the two sysctls.
# Then removes $K8S_DIR. The binary cache ($K8S_BIN) stays. Safe to run twice.
set -uo pipefail
source "$(dirname "$0")/env.sh"
R=$K8S_DIR
export CONTAINERD_ADDRESS=$R/containerd/containerd.sock
stop() {
	local f=$R/pids/$1.pid p
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kill "$p" 2>/dev/null
	for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
	kill -9 "$p" 2>/dev/null
	rm -f "$f"
}
for c in kube-proxy kubelet kube-scheduler kube-controller-manager; do stop $c; done
# Killing kubelet leaves the containers running: kill and delete them through containerd.
if [ -S "$CONTAINERD_ADDRESS" ]; then
	for id in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1; done
	sleep 1
	for id in $(ctr -n k8s.io tasks ls -q 2>/dev/null); do ctr -n k8s.io tasks delete -f "$id" >/dev/null 2>&1; done
	for id in $(ctr -n k8s.io containers ls -q 2>/dev/null); do ctr -n k8s.io containers delete "$id" >/dev/null 2>&1; done
fi
stop containerd
# Pod network namespaces (under the containerd state dir) and any other mount under $R.
for m in $(awk -v r="$R" 'index($2, r)==1 {print $2}' /proc/self/mounts | sort -r); do umount -l "$m" 2>/dev/null; done
ip link del cni0 2>/dev/null
ip link del "$NODE_BRIDGE" 2>/dev/null
for d in -i -o; do while iptables -D FORWARD $d cni0 -j ACCEPT 2>/dev/null; do :; done; done
# Rules and chains of kubelet (KUBE-FIREWALL, canaries), kube-proxy (KUBE-*) and CNI (CNI-*).
# (Not kube-proxy --cleanup: it would bring up the legacy iptables tables until reboot.)
for ipt in iptables ip6tables; do
	for t in filter nat mangle; do
		$ipt -t $t -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE|CNI)-' | sed 's/^-A/-D/' |
			while read -r rule; do eval "$ipt -t $t $rule" 2>/dev/null; done
		for ch in $($ipt -t $t -S 2>/dev/null | awk '/^-N (KUBE|CNI)-/{print $2}'); do $ipt -t $t -F "$ch" 2>/dev/null; done
		for ch in $($ipt -t $t -S 2>/dev/null | awk '/^-N (KUBE|CNI)-/{print $2}'); do $ipt -t $t -X "$ch" 2>/dev/null; done
	done
done
stop kube-apiserver
stop etcd
rm -rf /tmp/hostpath_pv  # volumes of the host-path provisioner
rm -f /var/lib/cni/results/nomosrun-* /var/lib/cni/results/cni-loopback-*
rmdir /var/lib/cni/results /var/lib/cni /run/containerd/s /run/containerd 2>/dev/null
# Empty kubelet cgroups, deepest first (cgroup v1 hierarchies and v2).
for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/kubepods.slice; do
	[ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
done
if [ -f "$R/sysctl.orig" ]; then
	read -r f l <"$R/sysctl.orig"
	sysctl -qw net.ipv4.ip_forward="$f" net.ipv4.conf.all.route_localnet="$l"
fi
rm -rf "$R"
echo "k8s-down: done"

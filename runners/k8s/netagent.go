package k8s

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
	"github.com/nomosrun/nomosrun/runners/kernelnet/agent"
)

// agentContainer is the network agent's container in a node's pod.
const agentContainer = "netagent"

// agentReadyTimeout bounds the wait for every agent to answer once its pod
// is ready.
const agentReadyTimeout = 30 * time.Second

// netAgent is the spec of the agent container: the node image's binary
// (the reference node or nomosrun, both serve agent.Command).
func netAgent() *netAgentSpec {
	return &netAgentSpec{Container: agentContainer, Command: []string{nodeimage.BinaryPath, agent.Command}, Port: agent.Port}
}

// errNoAgent is why a cluster deployed without agents takes no kernel faults.
var errNoAgent = errors.New("no network agent runs beside the nodes: the plan has no partition, isolate or latency fault " +
	"(nor a hook that may apply one) that may use the kernel")

// attachNetwork reaches every node's agent through a port-forward (never a
// NodePort: the agent rewrites the pod's firewall and must not be exposed)
// and makes the kernel network of the run from the pods' addresses, with
// each Service's cluster IP as an alias since peers dial that. An agent
// that cannot manage its namespace leaves the cluster without kernel
// faults, for the reason it gave.
func (c *Cluster) attachNetwork(ctx context.Context, clusterIPs []string) error {
	ctx, cancel := context.WithTimeout(ctx, agentReadyTimeout)
	defer cancel()
	var members []kernelnet.Member
	for i, n := range c.nodes {
		fwd, err := newForwarder(c, n.name, agent.Port)
		if err != nil {
			return err
		}
		n.agentFwd = fwd
		if err := fwd.connect(ctx); err != nil {
			return fmt.Errorf("network agent of %s: %w", n.name, err)
		}
		n.agent = agent.NewClient("http://" + hostPort("127.0.0.1", fwd.local[0]))
		if err := n.agent.Ready(ctx); err != nil {
			c.Faulter.Why = fmt.Errorf("the network agent in the pod of %s: %w", n.name, err)
			c.log.Warn("kernel network faults are not available; network faults go through the nodes' testing API", "reason", c.Faulter.Why)
			return nil
		}
		addr, err := c.podAddr(ctx, n.name)
		if err != nil {
			return err
		}
		alias, err := netip.ParseAddr(clusterIPs[i])
		if err != nil {
			return fmt.Errorf("cluster IP of %s: %w", n.name, err)
		}
		members = append(members, kernelnet.Member{Name: n.name, Addr: addr, Aliases: []netip.Addr{alias}, Endpoint: n.agent})
	}
	net, err := kernelnet.Attach(kernelnet.Options{}, members, nil)
	if err != nil {
		return err
	}
	c.Faulter.Net = net
	c.log.Info("kernel network faults through a network agent in each pod", "nodes", len(members))
	return nil
}

// podAddr is the IPv4 address of the node's ready pod.
func (c *Cluster) podAddr(ctx context.Context, node string) (netip.Addr, error) {
	pod, err := c.readyPod(ctx, node, "")
	if err != nil {
		return netip.Addr{}, err
	}
	if pod == nil {
		return netip.Addr{}, fmt.Errorf("%s has no ready pod", node)
	}
	addr, err := netip.ParseAddr(pod.Status.PodIP)
	if err != nil || !addr.Is4() {
		return netip.Addr{}, fmt.Errorf("pod %s: IPv4 address %q: kernel network faults need one", pod.Name, pod.Status.PodIP)
	}
	return addr, nil
}

// rejoin follows a node to its new pod after a restart or start: the
// agent's port-forward moves, and the faults in force are applied again in
// the new pod's namespace and against its new address.
func (c *Cluster) rejoin(ctx context.Context, n *node) error {
	if c.Faulter.Net == nil || n.agent == nil {
		return nil
	}
	if err := n.agentFwd.connect(ctx); err != nil {
		return fmt.Errorf("network agent of %s: %w", n.name, err)
	}
	ready, cancel := context.WithTimeout(ctx, agentReadyTimeout)
	defer cancel()
	if err := n.agent.Ready(ready); err != nil {
		return fmt.Errorf("network agent of %s: %w", n.name, err)
	}
	addr, err := c.podAddr(ctx, n.name)
	if err != nil {
		return err
	}
	return c.Faulter.Net.Rejoin(ctx, n.name, n.agent, addr)
}

// replicaFailure returns why the node's Deployment cannot create its pod
// (an admission refusal such as PodSecurity's), or "".
func (c *Cluster) replicaFailure(ctx context.Context, node string) string {
	d, err := c.client.AppsV1().Deployments(c.ns).Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	if msg := failureOf(d); msg != "" {
		return msg
	}
	// The Deployment's condition lags its ReplicaSet's.
	rss, err := c.client.AppsV1().ReplicaSets(c.ns).List(ctx, metav1.ListOptions{LabelSelector: labelNode + "=" + node})
	if err != nil {
		return ""
	}
	for _, rs := range rss.Items {
		for _, cond := range rs.Status.Conditions {
			if cond.Type == appsv1.ReplicaSetReplicaFailure && cond.Status == corev1.ConditionTrue {
				return cond.Message
			}
		}
	}
	return ""
}

func failureOf(d *appsv1.Deployment) string {
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentReplicaFailure && cond.Status == corev1.ConditionTrue {
			return cond.Message
		}
	}
	return ""
}

// admissionHint explains a refused pod that carried the network agent.
func admissionHint(msg string) string {
	if strings.Contains(msg, "NET_ADMIN") || strings.Contains(msg, "PodSecurity") {
		return "; the network agent beside each node needs the NET_ADMIN capability, which Pod Security admits only at the " +
			"privileged level: label the namespace pod-security.kubernetes.io/enforce=privileged, or pin the network faults " +
			"to the nodes' testing API with via=\"node\" (see Kernel network faults in docs/kubernetes.md)"
	}
	return ""
}

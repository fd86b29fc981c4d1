package k8s

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// faultPlan is n validators and a partition, so the pods get the agent.
func faultPlan(n int) *plan.Plan {
	p := testPlan(n)
	p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultPartition}}
	// An isolated validator extends its own fork meanwhile; a deep k lets it
	// switch back to the others' longer chain after the heal.
	p.Topology.SecurityParam = 1000
	return p
}

// cutAtPacketLevel reports whether a TCP handshake from a's pod to a
// listener in b's pod, both made by the agents, times out.
func cutAtPacketLevel(t *testing.T, c *Cluster, a, b string) bool {
	t.Helper()
	ctx := context.Background()
	na, _ := c.node(a)
	nb, _ := c.node(b)
	addr, err := c.podAddr(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	to, ln, err := nb.agent.ListenTCP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = na.agent.Dial(ctx, to, 500*time.Millisecond)
	if err != nil && !kernelnet.IsTimeout(err) {
		t.Fatalf("%s → %s: %v (want a timeout or a connection)", a, b, err)
	}
	return err != nil
}

func TestKernelFaultsThroughTheAgent(t *testing.T) {
	r := realRunner(t, nil)
	ctx := context.Background()
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: faultPlan(4), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := cl.(*Cluster)
	t.Cleanup(func() { c.Teardown(context.Background()) })
	if err := c.KernelNetwork(); err != nil {
		t.Fatal(err)
	}
	v := func(i int) string { return fmt.Sprintf("validator-%d", i) }

	// A 2+2 partition: 8 links cut, proven again from inside the pods.
	line, err := c.CutLinks(ctx, "p1", []string{v(0), v(1)}, []string{v(2), v(3)})
	if err != nil || !strings.Contains(line, "8/8 links cut") {
		t.Fatalf("cut: %q, %v", line, err)
	}
	if !cutAtPacketLevel(t, c, v(0), v(2)) || !cutAtPacketLevel(t, c, v(3), v(1)) {
		t.Error("a cross link of the partition passes packets")
	}
	if cutAtPacketLevel(t, c, v(0), v(1)) {
		t.Error("a link inside one side is cut")
	}
	// A restarted node gets a new pod: the partition follows it.
	if err := c.Restart(ctx, v(0)); err != nil {
		t.Fatal(err)
	}
	if !cutAtPacketLevel(t, c, v(0), v(2)) || !cutAtPacketLevel(t, c, v(2), v(0)) {
		t.Error("the restarted node escaped the partition")
	}
	if line, err := c.HealLinks(ctx, "p1"); err != nil || !strings.Contains(line, "8/8 links healed") {
		t.Fatalf("heal: %q, %v", line, err)
	}
	if cutAtPacketLevel(t, c, v(0), v(2)) {
		t.Error("a healed link still drops packets")
	}

	// 20% loss, measured by the agents within the binomial bound.
	line, err = c.ImpairLinks(ctx, "l1", []string{v(1)}, []string{v(2)}, runners.Impairment{Loss: 0.2})
	if err != nil || !strings.Contains(line, "losing 20%") {
		t.Fatalf("loss: %q, %v", line, err)
	}
	if _, err := c.HealLinks(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	// This machine's kernel has no netem: a delay says so and leaves nothing.
	others := []string{v(0), v(2), v(3)}
	_, err = c.ImpairLinks(ctx, "d1", []string{v(1)}, others, runners.Impairment{Delay: 200 * time.Millisecond})
	if err != nil && !errors.Is(err, runners.ErrKernelLacks) {
		t.Fatalf("delay: %v", err)
	}
	if err == nil {
		if _, err := c.HealLinks(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
	}

	// An isolated node gets none of the others' blocks, then catches up.
	if _, err := c.CutLinks(ctx, "iso", []string{v(3)}, []string{v(0), v(1), v(2)}); err != nil {
		t.Fatal(err)
	}
	iso, other := nodeClient(c, v(3)), nodeClient(c, v(0))
	start := info(t, other)
	var tip nodeapi.Info
	waitUntil(t, time.Minute, "the others advance 6 blocks", func() bool { tip = info(t, other); return tip.Height >= start.Height+6 })
	if b, err := iso.Block(ctx, tip.Tip); err != nil || b != nil {
		t.Fatalf("the isolated node knows the others' new tip %s (err %v): it was not cut off", tip.Tip, err)
	}
	if _, err := c.HealLinks(ctx, "iso"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Minute, "the isolated node catches up", func() bool {
		now := info(t, other)
		b, err := iso.Block(ctx, now.Tip)
		return err == nil && b != nil && info(t, iso).Height+1 >= now.Height
	})
}

func nodeClient(c *Cluster, name string) *nodeapi.Client {
	n, _ := c.node(name)
	return nodeapi.NewClient(n.api, n.testing, nil)
}

func info(t *testing.T, cl *nodeapi.Client) nodeapi.Info {
	t.Helper()
	in, err := cl.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// A namespace whose Pod Security level refuses NET_ADMIN fails the deploy
// at once, naming the capability and the fix.
func TestAgentRefusedByPodSecurityIsNamed(t *testing.T) {
	r := realRunner(t, func(o *Options) { o.Namespace = fmt.Sprintf("nomosrun-psa-%d", time.Now().UnixNano()%1e6) })
	ctx := context.Background()
	cs, _, err := r.connect()
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.opts.Namespace,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "baseline"}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{}) })
	start := time.Now()
	cl, err := r.Deploy(ctx, runners.DeploySpec{Plan: faultPlan(1), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err == nil {
		cl.Teardown(ctx)
		t.Fatal("deployed pods with NET_ADMIN into a baseline namespace")
	}
	for _, want := range []string{"NET_ADMIN", "pod-security.kubernetes.io/enforce=privileged", `via="node"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if took := time.Since(start); took > time.Minute {
		t.Errorf("the refusal took %v to surface", took)
	}
}

package compose

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// needKernel skips when this process may not apply kernel faults, saying
// what is missing.
func needKernel(t *testing.T) {
	t.Helper()
	if err := kernelnet.Available(); err != nil {
		t.Skipf("kernel network faults on compose need privileges: %v", err)
	}
}

// kernelCluster deploys fully connected validators whose network takes
// kernel faults, and waits until every node has all peers and a few blocks.
func kernelCluster(t *testing.T, validators, k int) (*Cluster, []*nodeapi.Client) {
	t.Helper()
	r := realRunner(t)
	needKernel(t)
	ctx := context.Background()
	p := testPlan(validators, 0, plan.NetworkFull)
	if k > 0 {
		p.Topology.SecurityParam = k
	}
	rc, err := r.Deploy(ctx, runners.DeploySpec{Plan: p, RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Teardown(context.Background()) })
	c := rc.(*Cluster)
	if err := c.KernelNetwork(); err != nil {
		if errors.Is(err, errNotLocal) {
			t.Skipf("the Docker engine is not local: %v", err)
		}
		t.Fatalf("kernel network off on a local engine with privileges: %v", err)
	}
	var cl []*nodeapi.Client
	for _, n := range c.Nodes() {
		cl = append(cl, clientOf(n))
	}
	waitFor(t, scaled(60*time.Second), "all connected and producing", func() string {
		for i, x := range cl {
			ni, err := x.NetworkInfo(ctx)
			in, err2 := x.Info(ctx)
			if err != nil || err2 != nil || ni.NPeers != validators-1 || in.Height < 3 {
				return fmt.Sprintf("node %d: peers %d height %d (%v %v)", i, ni.NPeers, in.Height, err, err2)
			}
		}
		return ""
	})
	return c, cl
}

// p2pOf opens, independently of the cluster, the network namespace of a
// node's container and returns it with the node's p2p address.
func p2pOf(t *testing.T, c *Cluster, node string) (kernelnet.Endpoint, netip.Addr) {
	t.Helper()
	ctx := context.Background()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	info, err := cli.ContainerInspect(ctx, containerName(c.RunID(), node))
	if err != nil {
		t.Fatal(err)
	}
	var addr netip.Addr
	for name, ep := range info.NetworkSettings.Networks {
		if strings.HasSuffix(name, "_"+p2pNet) {
			addr, err = netip.ParseAddr(ep.IPAddress)
			if err != nil {
				t.Fatalf("%s: p2p address %q: %v", node, ep.IPAddress, err)
			}
		}
	}
	if !addr.IsValid() {
		t.Fatalf("%s is not on the p2p network", node)
	}
	ep, err := kernelnet.NamespaceEndpoint(info.State.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return ep, addr
}

// dial connects from one node's namespace to a listener opened in
// another's, on its p2p address.
func dial(t *testing.T, c *Cluster, from, to string, timeout time.Duration) error {
	t.Helper()
	ctx := context.Background()
	src, _ := p2pOf(t, c, from)
	defer src.Close()
	dst, addr := p2pOf(t, c, to)
	defer dst.Close()
	at, ln, err := dst.ListenTCP(ctx, addr)
	if err != nil {
		t.Fatalf("listen in %s on %s: %v", to, addr, err)
	}
	defer ln.Close()
	_, err = src.Dial(ctx, at, timeout)
	return err
}

// mustBeCut fails unless every link between the two sides drops a
// connection attempt, both ways.
func mustBeCut(t *testing.T, c *Cluster, a, b []string) {
	t.Helper()
	for _, x := range a {
		for _, y := range b {
			for _, l := range [][2]string{{x, y}, {y, x}} {
				if err := dial(t, c, l[0], l[1], time.Second); !kernelnet.IsTimeout(err) {
					t.Errorf("%s→%s: want a timed-out dial over the cut, got %v", l[0], l[1], err)
				}
			}
		}
	}
}

// mustPass fails unless each link accepts a connection.
func mustPass(t *testing.T, c *Cluster, links ...[2]string) {
	t.Helper()
	for _, l := range links {
		if err := dial(t, c, l[0], l[1], 3*time.Second); err != nil {
			t.Errorf("%s→%s: want a connection, got %v", l[0], l[1], err)
		}
	}
}

// TestKernelPartitionCutsAndHeals cuts 2+2 validators through the
// cluster's NetFaulter and checks at packet level, from the test, that
// every cross link drops while links inside a side and every node's API
// still answer; after the heal the cross links connect again.
func TestKernelPartitionCutsAndHeals(t *testing.T) {
	c, cl := kernelCluster(t, 4, 0)
	ctx := context.Background()
	a, b := []string{"validator-0", "validator-1"}, []string{"validator-2", "validator-3"}
	line, err := c.CutLinks(ctx, "p1", a, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	if !strings.Contains(line, "8/8 links cut, verified") {
		t.Errorf("cut line %q: want 8/8 links cut, verified", line)
	}
	mustBeCut(t, c, a, b)
	mustPass(t, c, [2]string{"validator-0", "validator-1"}, [2]string{"validator-3", "validator-2"})
	for i, x := range cl {
		if _, err := x.Info(ctx); err != nil {
			t.Errorf("node %d's API does not answer during the cut: %v", i, err)
		}
	}
	line, err = c.HealLinks(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	if !strings.Contains(line, "8/8 links healed") {
		t.Errorf("heal line %q: want 8/8 links healed", line)
	}
	mustPass(t, c, [2]string{"validator-0", "validator-2"}, [2]string{"validator-3", "validator-1"})
}

// TestKernelIsolateStallsAndCatchesUp isolates one validator in the
// kernel: it receives none of the blocks the others make meanwhile and
// falls behind them; after the heal it joins their chain.
func TestKernelIsolateStallsAndCatchesUp(t *testing.T) {
	// k far above the blocks the isolated node makes alone, so it may
	// switch back to the others' chain (as in TestIsolateCutsTheNetwork).
	c, cl := kernelCluster(t, 4, 1000)
	ctx := context.Background()
	iso, others := cl[3], cl[:3]
	line, err := c.CutLinks(ctx, "iso", []string{"validator-3"}, []string{"validator-0", "validator-1", "validator-2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	isoStart, err := iso.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start, err := others[0].Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tip nodeapi.Info
	waitFor(t, scaled(30*time.Second), "the others advance by 8 blocks", func() string {
		in, err := others[0].Info(ctx)
		if err != nil || in.Height < start.Height+8 {
			return fmt.Sprintf("height %d (%v)", in.Height, err)
		}
		tip = in
		return ""
	})
	isoNow, err := iso.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := iso.Block(ctx, tip.Tip); err != nil || b != nil {
		t.Fatalf("the isolated node knows the others' new tip %s (err %v): it was not cut off", tip.Tip, err)
	}
	// Alone it only extends its own fork, with a quarter of the stake.
	if isoNow.Height-isoStart.Height >= tip.Height-start.Height {
		t.Errorf("isolated node went %d→%d, as fast as the others %d→%d", isoStart.Height, isoNow.Height, start.Height, tip.Height)
	}
	t.Logf("while isolated: node %d→%d on its own, the others %d→%d", isoStart.Height, isoNow.Height, start.Height, tip.Height)
	if line, err = c.HealLinks(ctx, "iso"); err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	healed := time.Now()
	waitFor(t, scaled(60*time.Second), "the healed node catches up", func() string {
		in0, err := others[0].Info(ctx)
		if err != nil {
			return err.Error()
		}
		if b, err := iso.Block(ctx, in0.Tip); err != nil || b == nil {
			return fmt.Sprintf("does not know the others' tip %s yet (%v)", in0.Tip, err)
		}
		in, err := iso.Info(ctx)
		if err != nil || in.Height+2 < in0.Height {
			return fmt.Sprintf("height %d vs %d (%v)", in.Height, in0.Height, err)
		}
		return ""
	})
	t.Logf("caught up %s after the heal", time.Since(healed).Round(time.Millisecond))
}

// TestKernelLoss drops 20% of what one node sends another; the cluster's
// probes measure the loss within the binomial bound, and the heal
// restores the link.
func TestKernelLoss(t *testing.T) {
	c, _ := kernelCluster(t, 3, 0)
	ctx := context.Background()
	line, err := c.ImpairLinks(ctx, "l1", []string{"validator-0"}, []string{"validator-1"}, runners.Impairment{Loss: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	if !strings.Contains(line, "1/1 links losing 20%, verified") {
		t.Errorf("loss line %q: want 1/1 links losing 20%%, verified", line)
	}
	if line, err = c.HealLinks(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	if got := lostOf(t, c, "validator-0", "validator-1", 500); got != 0 {
		t.Errorf("after the heal %d of 500 datagrams were lost", got)
	}
}

// lostOf sends count datagrams from one node's namespace to another's and
// returns how many did not arrive.
func lostOf(t *testing.T, c *Cluster, from, to string, count int) int {
	t.Helper()
	ctx := context.Background()
	src, _ := p2pOf(t, c, from)
	defer src.Close()
	dst, addr := p2pOf(t, c, to)
	defer dst.Close()
	sink, err := dst.ListenUDP(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	tag := [8]byte{'c', 'o', 'm', 'p', 'o', 's', 'e'}
	if err := src.SendUDP(ctx, sink.Addr(), tag, count); err != nil {
		t.Fatal(err)
	}
	got, err := sink.Count(ctx, tag, count)
	if err != nil {
		t.Fatal(err)
	}
	return count - got
}

// TestKernelDelayWithoutNetem: where the kernel has no netem, a delay is
// an error wrapping runners.ErrKernelLacks (the engine then uses the nodes'
// testing API) and nothing of the impairment stays, not even its loss part.
func TestKernelDelayWithoutNetem(t *testing.T) {
	c, _ := kernelCluster(t, 3, 0)
	ctx := context.Background()
	rest := []string{"validator-1", "validator-2"}
	line, err := c.ImpairLinks(ctx, "d1", []string{"validator-0"}, rest,
		runners.Impairment{Delay: 100 * time.Millisecond, Loss: 0.5})
	if err == nil {
		t.Logf("this kernel has netem: %s", line)
		if !strings.Contains(line, "delayed 100ms") {
			t.Errorf("delay line %q: want delayed 100ms", line)
		}
		if _, err := c.HealLinks(ctx, "d1"); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !errors.Is(err, runners.ErrKernelLacks) {
		t.Fatalf("delay without netem: %v, want an error wrapping ErrKernelLacks", err)
	}
	t.Logf("as expected: %v", err)
	if _, err := c.HealLinks(ctx, "d1"); err == nil || !strings.Contains(err.Error(), "no such fault") {
		t.Errorf("heal after a failed delay: %v, want no such fault", err)
	}
	if got := lostOf(t, c, "validator-0", "validator-1", 500); got != 0 {
		t.Errorf("the loss part stayed: %d of 500 datagrams lost", got)
	}
}

// TestKernelRestartKeepsThePartition restarts, and kills and starts, nodes
// during a cut: each comes back in a new network namespace, where the cut
// must hold again.
func TestKernelRestartKeepsThePartition(t *testing.T) {
	c, _ := kernelCluster(t, 4, 0)
	ctx := context.Background()
	a, b := []string{"validator-0", "validator-1"}, []string{"validator-2", "validator-3"}
	if _, err := c.CutLinks(ctx, "p1", a, b); err != nil {
		t.Fatal(err)
	}
	pid := func(node string) int {
		info, err := c.cli.ContainerInspect(ctx, containerName(c.RunID(), node))
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Pid
	}
	before := pid("validator-0")
	if err := c.Restart(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	if after := pid("validator-0"); after == before {
		t.Fatalf("validator-0 still runs as pid %d after the restart", after)
	}
	mustBeCut(t, c, []string{"validator-0"}, b)
	mustPass(t, c, [2]string{"validator-0", "validator-1"})

	if err := c.Kill(ctx, "validator-3"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, "validator-3"); err != nil {
		t.Fatal(err)
	}
	mustBeCut(t, c, a, []string{"validator-3"})
	mustPass(t, c, [2]string{"validator-3", "validator-2"})

	line, err := c.HealLinks(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(line)
	mustPass(t, c, [2]string{"validator-0", "validator-2"}, [2]string{"validator-3", "validator-0"})
}

// TestEnterRefusesAnotherNamespace: an engine whose pids are not this
// machine's hands out pids that name no process here, or some unrelated
// one; either way the kernel network stays off with errNotLocal.
func TestEnterRefusesAnotherNamespace(t *testing.T) {
	needKernel(t)
	ctx := context.Background()
	// An address of the documentation range, held by no interface here.
	addr := netip.MustParseAddr("192.0.2.77")
	for _, pid := range []int{os.Getpid(), 1 << 30} {
		ep, err := enterPid(ctx, pid, addr)
		if err == nil {
			ep.Close()
			t.Fatalf("pid %d: entered a namespace that does not hold %s", pid, addr)
		}
		if !errors.Is(err, errNotLocal) || !strings.Contains(err.Error(), "not in this machine's PID namespace") {
			t.Errorf("pid %d: %v, want it to say the engine's containers are not in this PID namespace", pid, err)
		}
		t.Logf("pid %d: %v", pid, err)
	}
}

// TestKernelFaultOnAStoppedNode: a killed node's container has no network
// namespace, so a kernel fault naming it is refused with ErrKernelLacks
// (the engine then takes the other path) and nothing is applied; once the
// node runs again the same fault takes.
func TestKernelFaultOnAStoppedNode(t *testing.T) {
	c, _ := kernelCluster(t, 3, 0)
	ctx := context.Background()
	a, b := []string{"validator-0"}, []string{"validator-1", "validator-2"}
	if err := c.Kill(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	// The killed node's links are left unprobed; the others are cut.
	line, err := c.CutLinks(ctx, "iso", a, b)
	if err != nil || !strings.Contains(line, "2/2 links cut") || !strings.Contains(line, "2 not probed: a node was down") {
		t.Fatalf("cut with a killed node: %q, %v", line, err)
	}
	mustBeCut(t, c, a, []string{"validator-1"})
	// Started again, the node is cut in its new namespace too.
	if err := c.Start(ctx, "validator-2"); err != nil {
		t.Fatal(err)
	}
	mustBeCut(t, c, a, b)
	if _, err := c.HealLinks(ctx, "iso"); err != nil {
		t.Fatal(err)
	}
	mustPass(t, c, [2]string{"validator-0", "validator-2"})
}

package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

// needNetns skips unless this process may manage network namespaces.
func needNetns(tb testing.TB) {
	tb.Helper()
	if err := kernelnet.Available(); err != nil {
		tb.Skipf("netns mode needs privileges: %v", err)
	}
}

// runNamespaces lists the namespaces of host runs under /run/netns.
func runNamespaces() []string {
	var out []string
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), kernelnet.DefaultPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// newNamespaces lists the run namespaces that are not in before (some of
// before may be gone: a deploy cleans up after killed runs).
func newNamespaces(before []string) []string {
	var out []string
	for _, ns := range runNamespaces() {
		if !slices.Contains(before, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// lockedByOthers returns the run ids whose hub namespace another process
// holds a lock on, from /proc/locks: a live run of that process. This
// process's own locks do not count, so a run of this test that leaks its
// network while still holding the lock is not excused.
func lockedByOthers() map[string]bool {
	inodes := map[uint64]string{}
	for _, ns := range runNamespaces() {
		run, rest, _ := strings.Cut(strings.TrimPrefix(ns, kernelnet.DefaultPrefix), "-")
		var st syscall.Stat_t
		if rest == "hub" && syscall.Stat("/run/netns/"+ns, &st) == nil {
			inodes[st.Ino] = run
		}
	}
	out := map[string]bool{}
	b, _ := os.ReadFile("/proc/locks")
	for _, line := range strings.Split(string(b), "\n") {
		// 1: FLOCK  ADVISORY  WRITE 1234 00:1a:4026532837 0 EOF
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[4] == strconv.Itoa(os.Getpid()) {
			continue
		}
		dev := strings.Split(f[5], ":")
		if ino, err := strconv.ParseUint(dev[len(dev)-1], 10, 64); err == nil && inodes[ino] != "" {
			out[inodes[ino]] = true
		}
	}
	return out
}

// noNewNamespaces fails the test when a namespace not in before exists,
// except those of runs another process holds (other packages' tests run
// meanwhile).
func noNewNamespaces(t *testing.T, before []string) {
	t.Helper()
	others := lockedByOthers()
	for _, ns := range newNamespaces(before) {
		if run, _, _ := strings.Cut(strings.TrimPrefix(ns, kernelnet.DefaultPrefix), "-"); !others[run] {
			t.Errorf("namespace %s left behind", ns)
		}
	}
}

func TestNetnsStandInsOnTheirOwnAddressesCutAndHealed(t *testing.T) {
	needNetns(t)
	before := runNamespaces()
	r := fakeRunner(t, "", Options{Network: NetworkNetns})
	c, _ := deployFake(t, r, 3)
	if err := c.KernelNetwork(); err != nil {
		t.Fatal(err)
	}
	subnet := c.place.net.Subnet()
	for _, n := range c.Nodes() {
		host := strings.TrimPrefix(n.API(), "http://")
		ap, err := netip.ParseAddrPort(host)
		if err != nil || !subnet.Contains(ap.Addr()) {
			t.Fatalf("%s API %s is not in the run's subnet %s", n.Name(), n.API(), subnet)
		}
		if _, err := get(t, n.API()+"/cryptarchia/info", time.Second); err != nil {
			t.Fatalf("%s: %v", n.Name(), err)
		}
	}
	ctx := context.Background()
	out, err := c.CutLinks(ctx, "iso", []string{"validator-0"}, []string{"validator-1", "validator-2"})
	if err != nil || !strings.Contains(out, "4/4 links cut") {
		t.Fatalf("isolate: %q, %v", out, err)
	}
	// nomosrun keeps reaching the isolated node.
	if _, err := get(t, c.Nodes()[0].API()+"/cryptarchia/info", time.Second); err != nil {
		t.Errorf("isolated node's API: %v", err)
	}
	out, err = c.HealLinks(ctx, "iso")
	if err != nil || !strings.Contains(out, "4/4 links healed") {
		t.Fatalf("heal: %q, %v", out, err)
	}
	if _, err := c.HealLinks(ctx, "iso"); err == nil {
		t.Error("healing a healed fault succeeded")
	}
	impairLinks(t, c)
	if err := c.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	noNewNamespaces(t, before)
}

// impairLinks thins a link and asks for a delay: the loss is measured, and
// a delay the kernel cannot apply fails naming what is missing, leaving
// nothing applied.
func impairLinks(t *testing.T, c *Cluster) {
	ctx := context.Background()
	out, err := c.ImpairLinks(ctx, "l", []string{"validator-1"}, []string{"validator-2"}, runners.Impairment{Loss: 0.2})
	if err != nil || !strings.Contains(out, "1/1 links losing 20%") {
		t.Fatalf("loss: %q, %v", out, err)
	}
	if _, err := c.HealLinks(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	all := []string{"validator-0", "validator-1", "validator-2"}
	if _, err := c.ImpairLinks(ctx, "d", []string{"validator-0"}, all[1:2], runners.Impairment{Delay: 200 * time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "add validator-2") {
		t.Errorf("delay on part of a node's links: %v", err)
	}
	imp := runners.Impairment{Delay: 200 * time.Millisecond, Loss: 0.1}
	out, err = c.ImpairLinks(ctx, "d", []string{"validator-0"}, all, imp)
	if errors.Is(err, kernelnet.ErrNoNetem) {
		if !strings.Contains(err.Error(), "sch_netem") || c.place.net.Has("d/loss") || c.place.net.Has("d/delay") {
			t.Errorf("delay without netem: %v; loss part left: %v", err, c.place.net.Has("d/loss"))
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if _, err := c.HealLinks(ctx, "d"); err != nil {
		t.Fatal(err)
	}
}

func TestNetnsFailedDeployLeavesNoNamespace(t *testing.T) {
	needNetns(t)
	before := runNamespaces()
	r := fakeRunner(t, "exit-at-start", Options{Network: NetworkNetns})
	_, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: testPlan(2, 0, time.Second), RunDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "did not start") {
		t.Fatalf("deploy of nodes that exit at start: %v", err)
	}
	noNewNamespaces(t, before)
}

func TestLoopbackClusterRefusesKernelFaults(t *testing.T) {
	r := fakeRunner(t, "", Options{Network: NetworkLoopback})
	c, _ := deployFake(t, r, 2)
	if err := c.KernelNetwork(); err == nil || !strings.Contains(err.Error(), env.HostNetwork.Name) {
		t.Errorf("KernelNetwork on loopback: %v", err)
	}
	if _, err := c.CutLinks(context.Background(), "p", []string{"validator-0"}, []string{"validator-1"}); err == nil {
		t.Error("a cut on loopback succeeded")
	}
}

func TestNetworkModeChecked(t *testing.T) {
	if _, err := New(Options{Network: "bridge"}); err == nil || !strings.Contains(err.Error(), env.HostNetwork.Name) {
		t.Errorf("bad mode: %v", err)
	}
	t.Setenv(env.HostNetwork.Name, NetworkAuto)
	r, err := New(Options{})
	if err != nil || r.opts.Network != NetworkAuto {
		t.Errorf("mode from the environment: %v, %v", r, err)
	}
}

// Real reference nodes in netns mode make blocks, a 2+2 partition is cut
// at the packet level, and once healed the nodes agree again.
func TestNetnsReferenceNodesPartitionAndHeal(t *testing.T) {
	needNetns(t)
	r := netnsRealRunner(t)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(4, 0, 500*time.Millisecond), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Teardown(ctx) })
	hc := c.(*Cluster)
	waitHeights(t, c.Nodes(), 3, 30*time.Second)
	left, right := []string{"validator-0", "validator-1"}, []string{"validator-2", "validator-3"}
	out, err := hc.CutLinks(ctx, "p1", left, right)
	t.Log(out)
	if err != nil || !strings.Contains(out, "8/8 links cut") {
		t.Fatalf("partition: %q, %v", out, err)
	}
	time.Sleep(2 * time.Second)
	out, err = hc.HealLinks(ctx, "p1")
	t.Log(out)
	if err != nil || !strings.Contains(out, "8/8 links healed") {
		t.Fatalf("heal: %q, %v", out, err)
	}
	h := minHeight(t, c.Nodes())
	waitHeights(t, c.Nodes(), h+2, 30*time.Second)
	waitAgree(t, c.Nodes(), 30*time.Second)
	if exits := hc.Exits(); len(exits) > 0 {
		t.Fatalf("unexpected exits: %v", exits)
	}
}

func netnsRealRunner(tb testing.TB) *Runner {
	tb.Helper()
	if simnodeBin == "" {
		tb.Skip("the reference node runs only without -short")
	}
	r, err := New(Options{NodeCommand: []string{simnodeBin}, Network: NetworkNetns, TeardownGrace: 2 * time.Second, StopTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// waitHeights waits until every node reports at least height.
func waitHeights(t *testing.T, nodes []runners.Node, height int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, n := range nodes {
		cl := nodeapi.NewClient(n.API(), n.TestingAPI(), nil)
		for {
			in, err := cl.Info(context.Background())
			if err == nil && int(in.Height) >= height {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not reach height %d: %+v, %v", n.Name(), height, in, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// waitAgree waits until every node reports the same LIB at once: the
// sides of a healed partition follow one chain again.
func waitAgree(t *testing.T, nodes []runners.Node, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var libs []string
	for time.Now().Before(deadline) {
		libs = libs[:0]
		for _, n := range nodes {
			in, err := nodeapi.NewClient(n.API(), n.TestingAPI(), nil).Info(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			libs = append(libs, fmt.Sprint(in.LIB))
		}
		if len(slices.Compact(slices.Clone(libs))) == 1 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("nodes still disagree after %v: LIBs %v", within, libs)
}

func minHeight(t *testing.T, nodes []runners.Node) int {
	t.Helper()
	low := -1
	for _, n := range nodes {
		in, err := nodeapi.NewClient(n.API(), n.TestingAPI(), nil).Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if low < 0 || int(in.Height) < low {
			low = int(in.Height)
		}
	}
	return low
}

// BenchmarkNetnsExtraStartPerNode deploys five reference nodes in loopback
// and in netns mode, until every node answers its API, and reports the
// extra start time per node of netns mode (namespaces, veths, addresses).
func BenchmarkNetnsExtraStartPerNode(b *testing.B) {
	needNetns(b)
	const nodes = 5
	loop, ns := realRunner(b), netnsRealRunner(b)
	var tLoop, tNetns time.Duration
	for b.Loop() {
		tLoop += deployUntilAnswering(b, loop, nodes)
		tNetns += deployUntilAnswering(b, ns, nodes)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) / nodes }
	b.ReportMetric(per(tLoop), "loopback-ms/node")
	b.ReportMetric(per(tNetns), "netns-ms/node")
	b.ReportMetric(per(tNetns-tLoop), "extra-ms/node")
}

// deployUntilAnswering times a deploy until every node answers, then
// tears it down (not timed).
func deployUntilAnswering(b *testing.B, r *Runner, nodes int) time.Duration {
	ctx := context.Background()
	start := time.Now()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(nodes, 0, time.Second), RunDir: b.TempDir(), ChainStart: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if err := allAnswer(ctx, c.Nodes(), 30*time.Second); err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	if err := c.Teardown(ctx); err != nil {
		b.Fatal(err)
	}
	return d
}

// The conformance suite passes in netns mode too: restarts, kills and
// pauses keep each node in its namespace and on its address.
func TestConformanceNetns(t *testing.T) {
	needNetns(t)
	runnertest.Conformance(t, "", func(t *testing.T) runners.Runner { return netnsRealRunner(t) })
}

package kernelnet

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/vmtest"
)

// testPrefix keeps test runs apart from real ones.
const testPrefix = "nrtest-"

// need skips the test when this process may not manage namespaces.
func need(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("kernel network faults need privileges: %v", err)
	}
}

// newNet builds a network for the test and removes it when the test ends.
func newNet(t testing.TB, nodes ...string) *Network {
	t.Helper()
	need(t)
	n, err := Create(context.Background(), Options{Prefix: testPrefix, Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *Network) links(from, to []string) []link {
	var out []link
	for _, a := range from {
		for _, b := range to {
			if a != b {
				out = append(out, link{n.byName[a], n.byName[b]})
			}
		}
	}
	return out
}

// allConnect fails the test unless every link accepts a connection.
func allConnect(t *testing.T, links []link) {
	t.Helper()
	out, err := probeConnect(context.Background(), links, healTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.err != nil {
			t.Errorf("%s: %v", links[i], o.err)
		}
	}
}

func TestNodesReachEachOtherAndNomosrun(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	n := newNet(t, nodes...)
	allConnect(t, n.links(nodes, nodes))
	for _, name := range nodes {
		ls, err := listenAll(context.Background(), []link{{to: n.byName[name]}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.DialTimeout("tcp4", ls[n.byName[name]].addr.String(), healTimeout)
		closeAll(ls)
		if err != nil {
			t.Fatalf("nomosrun cannot reach %s: %v", name, err)
		}
		c.Close()
	}
}

func TestStartRunsTheProcessInTheNodeNamespace(t *testing.T) {
	n := newNet(t, "a")
	cmd := exec.Command("sleep", "30")
	if err := n.Start("a", cmd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	path, _ := n.Namespace("a")
	want := inode(t, path)
	if got := inode(t, "/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/net"); got != want {
		t.Errorf("child's namespace inode %d, want %d (%s)", got, want, path)
	}
	if own := inode(t, "/proc/self/ns/net"); own == want {
		t.Error("the test process itself ended up in the node's namespace")
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestPartitionIsCutAtPacketLevelAndHeals(t *testing.T) {
	left, right := []string{"v0", "v1"}, []string{"v2", "v3"}
	n := newNet(t, append(left, right...)...)
	ctx := context.Background()
	r, err := n.Cut(ctx, "p1", left, right)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Links != 8 || r.Held != 8 {
		t.Fatalf("cut: %v, want 8/8 links", r)
	}
	// Each side stays whole.
	allConnect(t, append(n.links(left, left), n.links(right, right)...))
	r, err = n.Heal(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Links != 8 || !r.OK() {
		t.Fatalf("heal: %v, want 8/8 links", r)
	}
}

func TestOverlappingFaultsHealIndependently(t *testing.T) {
	nodes := []string{"v0", "v1", "v2"}
	n := newNet(t, nodes...)
	ctx := context.Background()
	if _, err := n.Cut(ctx, "iso", []string{"v0"}, []string{"v1", "v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Cut(ctx, "p", []string{"v0", "v1"}, []string{"v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Cut(ctx, "p", []string{"v0"}, []string{"v1"}); err == nil {
		t.Error("a second fault with the same id was accepted")
	}
	r, err := n.Heal(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if r.Skipped != 2 || r.Links != 2 {
		t.Errorf("heal p: %v, want 2 links probed and 2 still cut by iso", r)
	}
	// v0's links are still cut by the other fault.
	if r := n.probeCut(ctx, n.faults["iso"], n.faults["iso"].links); !r.OK() {
		t.Errorf("iso after healing p: %v", r)
	}
	if _, err := n.Heal(ctx, "iso"); err != nil {
		t.Fatal(err)
	}
	allConnect(t, n.links(nodes, nodes))
}

// A 20% loss is measured with 2000 datagrams: the lost count of a correct
// kernel is Binomial(2000, 0.2), which leaves the accepted range 315–490
// (computed exactly by binomialRange) with probability below 1e-6, so the
// test fails a correct kernel less than once in a million runs. The other
// direction and the healed link lose nothing.
func TestLossMatchesTheAskedShare(t *testing.T) {
	n := newNet(t, "a", "b")
	ctx := context.Background()
	r, err := n.Loss(ctx, "l1", []string{"a"}, []string{"b"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r, r.Detail)
	// The other direction loses nothing.
	lost, err := burst(ctx, link{n.byName["b"], n.byName["a"]}, n.opts.LossProbes)
	if err != nil || lost != 0 {
		t.Errorf("b→a lost %d/%d (%v), want 0", lost, n.opts.LossProbes, err)
	}
	if _, err := n.Heal(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
	if lost, err := burst(ctx, link{n.byName["a"], n.byName["b"]}, n.opts.LossProbes); err != nil || lost != 0 {
		t.Errorf("a→b after heal lost %d (%v), want 0", lost, err)
	}
}

// The loss verification's bound: 2000 probes at 20% fall outside [lo, hi]
// with probability at most 1e-6.
func TestBinomialRangeBoundsTheFalseFailure(t *testing.T) {
	lo, hi := binomialRange(2000, 0.2, falseFailure)
	if lo < 300 || hi > 500 || lo > 340 || hi < 460 {
		t.Errorf("range %d–%d for 2000 probes at 20%%, want about 315–490 (some 5 sd)", lo, hi)
	}
	if lo, hi := binomialRange(100, 0, 1e-6); lo != 0 || hi != 0 {
		t.Errorf("p=0: %d–%d", lo, hi)
	}
	if lo, hi := binomialRange(100, 1, 1e-6); lo != 100 || hi != 100 {
		t.Errorf("p=1: %d–%d", lo, hi)
	}
}

func TestDelayNeedsNetem(t *testing.T) {
	n := newNet(t, "a", "b")
	r, err := n.Delay(context.Background(), "d1", []string{"a"}, 200*time.Millisecond, 0)
	if errors.Is(err, ErrNoNetem) {
		if !strings.Contains(err.Error(), "sch_netem") {
			t.Errorf("error %q does not name sch_netem", err)
		}
		if len(n.faults) != 0 {
			t.Error("a failed delay stayed registered")
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r, r.Detail)
	if _, err := n.Heal(context.Background(), "d1"); err != nil {
		t.Fatal(err)
	}
}

// TestNetemRoundTrip is the focused proof of the netem path: a 200 ms delay
// on a node shows as a 200 ms ±20% handshake time.
func TestNetemRoundTrip(t *testing.T) {
	n := newNet(t, "a")
	nn := n.byName["a"]
	if err := addNetem(nn.ns, nn.addr, 200*time.Millisecond, 0); errors.Is(err, ErrNoNetem) && !vmtest.InGuest() {
		t.Skipf("netem path not testable on this kernel (%v); TestNetemInAKernelThatHasIt runs it under qemu", err)
	} else if err != nil {
		t.Fatal(err)
	}
	med, err := medianRTT(context.Background(), n.self, nn, rttProbes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("median handshake with 200ms netem delay: %v", med)
	if med < 160*time.Millisecond || med > 240*time.Millisecond {
		t.Errorf("median handshake %v, want 200ms ±20%%", med)
	}
	if err := delNetem(nn.ns, nn.addr); err != nil {
		t.Fatal(err)
	}
}

// TestNetemInAKernelThatHasIt runs the netem path, and the cut and loss
// paths beside it, inside a distribution kernel that has netem, booted under
// qemu: this machine's kernel has no netem, users' kernels do.
func TestNetemInAKernelThatHasIt(t *testing.T) {
	if vmtest.InGuest() {
		t.Skip("the host side")
	}
	vmtest.RunTests(t, vmtest.Options{Modules: vmtest.NetworkModules}, "median handshake",
		"TestNetemRoundTrip", "TestDelayNeedsNetem", "TestPartitionIsCutAtPacketLevelAndHeals", "TestLossMatchesTheAskedShare")
}

func TestMissingCapsNamed(t *testing.T) {
	for _, c := range []struct {
		eff  uint64
		want string
	}{
		{0, "CAP_NET_ADMIN CAP_SYS_ADMIN"}, {1 << 12, "CAP_SYS_ADMIN"}, {1 << 21, "CAP_NET_ADMIN"},
		{1<<12 | 1<<21, ""}, {0x1ffffffffff, ""},
	} {
		if got := strings.Join(missingCaps(c.eff), " "); got != c.want {
			t.Errorf("CapEff %x: missing %q, want %q", c.eff, got, c.want)
		}
	}
}

func TestSubnetAvoidsAddressesAndRoutes(t *testing.T) {
	pfx := netip.MustParsePrefix
	if p, ok := freeSubnet(subnetBases, []netip.Prefix{pfx("10.213.7.0/24"), pfx("10.213.8.128/25")}, 7); !ok || p != pfx("10.213.9.0/24") {
		t.Errorf("past two used /24s: %v", p)
	}
	// A VPN's 10.0.0.0/8 covers the first range entirely.
	if p, ok := freeSubnet(subnetBases, []netip.Prefix{pfx("10.0.0.0/8")}, 0); !ok || p != pfx("172.29.0.0/24") {
		t.Errorf("under 10.0.0.0/8: %v", p)
	}
	if _, ok := freeSubnet(subnetBases, []netip.Prefix{pfx("10.0.0.0/8"), pfx("172.16.0.0/12"), pfx("192.168.0.0/16")}, 0); ok {
		t.Error("found a subnet where every range is taken")
	}
}

// Container networks take their subnets apart from host networks, so a
// Docker network created seconds after its subnet was picked never lands
// on a host network made meanwhile.
func TestContainerSubnetsApartFromHostSubnets(t *testing.T) {
	for _, c := range ContainerSubnetBases {
		for _, h := range subnetBases {
			if c.Overlaps(h) {
				t.Errorf("container base %v overlaps host base %v", c, h)
			}
		}
	}
}

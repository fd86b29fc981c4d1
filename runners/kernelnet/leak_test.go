package kernelnet

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/hostdump"
	"github.com/nomosrun/nomosrun/internal/vmtest"
	"github.com/vishvananda/netlink"
)

// envLeakChild makes the test binary build a network with the prefix it
// holds, cut it, print "ready" and wait to be killed.
const envLeakChild = "KERNELNET_TEST_LEAK_CHILD"

// leakPrefix names the networks of the leak test's child.
const leakPrefix = "nrleak-"

func TestMain(m *testing.M) {
	if prefix := os.Getenv(envLeakChild); prefix != "" {
		leakChildMain(prefix)
	}
	// A test binary killed earlier may have left networks behind.
	for _, prefix := range []string{testPrefix, leakPrefix} {
		if Available() != nil {
			break
		}
		if _, err := Clean(context.Background(), prefix); err != nil {
			fmt.Fprintln(os.Stderr, "clean networks of earlier tests:", err)
		}
	}
	vmtest.Main(m)
}

func leakChildMain(prefix string) {
	ctx := context.Background()
	n, err := Create(ctx, Options{Prefix: prefix, Nodes: []string{"v0", "v1", "v2", "v3"}})
	if err == nil {
		_, err = n.Cut(ctx, "p1", []string{"v0", "v1"}, []string{"v2", "v3"})
	}
	if err == nil {
		_, err = n.Loss(ctx, "l1", []string{"v0"}, []string{"v1"}, 50)
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready", n.Name(), n.Subnet())
	select {}
}

func TestCleanRemovesWhatAKilledRunLeft(t *testing.T) {
	need(t)
	prefix := leakPrefix
	before := hostdump.Take(t)
	run, subnet := startLeakChild(t, prefix)
	ours := []string{run, "nr" + strings.TrimPrefix(run, prefix), strings.TrimSuffix(subnet, "0/24"), "table ip " + tableName}
	if left := leftovers(t, prefix); len(left) < 5 {
		t.Fatalf("the killed run left %v; want its namespaces and veth, or the test proves nothing", left)
	}
	removed, err := Clean(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clean removed %v", removed)
	if left := leftovers(t, prefix); len(left) > 0 {
		t.Errorf("left after clean: %v", left)
	}
	before.Check(t, hostdump.Take(t), ours)
}

// startLeakChild runs a child that builds a partitioned network, SIGKILLs
// it once ready and returns its run name and subnet.
func startLeakChild(t *testing.T, prefix string) (string, string) {
	t.Helper()
	t.Cleanup(func() { _, _ = Clean(context.Background(), prefix) })
	f := hostdump.KillWhenReady(t, envLeakChild+"="+prefix, 30*time.Second)
	if len(f) != 2 {
		t.Fatalf("child said ready %v, want a run and a subnet", f)
	}
	return f[0], f[1]
}

// leftovers lists namespaces and root links of runs with the prefix.
func leftovers(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	entries, _ := os.ReadDir(nsDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, "namespace "+e.Name())
		}
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Alias, prefix) {
			out = append(out, "link "+l.Attrs().Name)
		}
	}
	return out
}

func TestCleanLeavesALiveRunAlone(t *testing.T) {
	n := newNet(t, "a")
	removed, err := Clean(context.Background(), testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range removed {
		if strings.Contains(r, n.Name()) {
			t.Errorf("clean removed %s of a live run", r)
		}
	}
	if _, err := os.Stat(nsDir + "/" + n.names.hub()); err != nil {
		t.Errorf("live run's hub: %v", err)
	}
}

// Clean running while runs are being created never removes any of them.
func TestCleanDuringCreate(t *testing.T) {
	need(t)
	stop := make(chan struct{})
	removedc := make(chan []string)
	go func() {
		var all []string
		for {
			select {
			case <-stop:
				removedc <- all
				return
			default:
			}
			r, _ := Clean(context.Background(), testPrefix)
			all = append(all, r...)
		}
	}()
	var nets []*Network
	for range 3 {
		nets = append(nets, newNet(t, "a", "b"))
	}
	close(stop)
	if removed := <-removedc; len(removed) > 0 {
		t.Errorf("clean removed parts of live runs: %v", removed)
	}
	for _, n := range nets {
		allConnect(t, n.links([]string{"a", "b"}, []string{"a", "b"}))
	}
}

package compose

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"

	"github.com/nomosrun/nomosrun/internal/hostdump"
	"github.com/nomosrun/nomosrun/runners"
)

// envLeakChild makes the test binary deploy four nodes with their run
// directory under the path it holds, cut them 2+2 in the kernel, print
// "ready <run id>" and wait to be killed.
const envLeakChild = "COMPOSE_TEST_LEAK_CHILD"

func leakChildMain(dir string) {
	ctx := context.Background()
	r, err := New(Options{StopTimeout: 5 * time.Second})
	var c runners.Cluster
	if err == nil {
		c, err = r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(4, 0, "full"), RunDir: dir, ChainStart: time.Now()})
	}
	if err == nil {
		err = c.(*Cluster).KernelNetwork()
	}
	if err == nil {
		_, err = c.(*Cluster).CutLinks(ctx, "p1", []string{"validator-0", "validator-1"}, []string{"validator-2", "validator-3"})
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready", c.(*Cluster).RunID())
	select {}
}

// TestCleanRemovesWhatAKilledKernelRunLeft: a nomosrun killed (SIGKILL)
// while a kernel partition is in force leaves its containers, networks and
// volumes; Clean of the run removes them, and the host's links, addresses,
// routes, rules and nftables ruleset are as before: the faults' rules and
// qdiscs lived in the containers' namespaces only.
func TestCleanRemovesWhatAKilledKernelRunLeft(t *testing.T) {
	realRunner(t)
	needKernel(t)
	ctx := context.Background()
	cli, err := Docker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	before := hostdump.Take(t)
	run := startLeakChild(t)
	t.Cleanup(func() { Clean(context.Background(), cli, run) })
	left, err := list(ctx, cli, run)
	if err != nil {
		t.Fatal(err)
	}
	// Our networks' bridges, subnets and containers' addresses: what of
	// the host the run touched.
	var ours []string
	for _, o := range left {
		if o.Kind == "container" {
			info, err := cli.ContainerInspect(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ep := range info.NetworkSettings.Networks {
				ours = append(ours, ep.IPAddress+" ")
			}
		}
		if o.Kind == "network" {
			ours = append(ours, "br-"+o.ID[:12])
			nw, err := cli.NetworkInspect(ctx, o.ID, network.InspectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range nw.IPAM.Config {
				ours = append(ours, c.Subnet)
			}
		}
	}
	ours = append(ours, hostVeths(hostdump.Take(t), ours)...)
	if len(left) != 4+2+4 {
		t.Fatalf("the killed run left %v; want its 4 containers, 2 networks and 4 volumes, or the test proves nothing", left)
	}
	removed, _, err := Clean(ctx, cli, run)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clean removed %d objects", len(removed))
	if left, err := list(ctx, cli, run); err != nil || len(left) > 0 {
		t.Errorf("left after clean: %v (%v)", left, err)
	}
	before.Check(t, hostdump.Take(t), ours)
}

// startLeakChild runs a child that deploys and partitions a cluster,
// SIGKILLs it once ready and returns its run id.
func startLeakChild(t *testing.T) string {
	t.Helper()
	f := hostdump.KillWhenReady(t, envLeakChild+"="+t.TempDir(), scaled(3*time.Minute))
	if len(f) != 1 {
		t.Fatalf("child said ready %v, want a run id", f)
	}
	return f[0]
}

// hostVeths names the host ends of the containers' veths: the links whose
// master is one of the run's bridges.
func hostVeths(dumps hostdump.Snapshot, ours []string) []string {
	var out []string
	for _, l := range dumps["ip -o -d link"] {
		f := strings.Fields(l)
		if len(f) > 1 && hostdump.MentionsAny(l, ours) && strings.HasPrefix(f[1], "veth") {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			out = append(out, " "+name+" ", " "+name+"@", "dev "+name+" ")
		}
	}
	return out
}

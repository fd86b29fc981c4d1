package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/fake"
)

func wall(s int) plan.Span { return plan.Span{Wall: plan.Duration(time.Duration(s) * time.Second)} }

func sel(nodes ...string) plan.Selector {
	s := plan.SelectNames(nodes...)
	s.Nodes = nodes
	return s
}

type log struct {
	mu     sync.Mutex
	start  time.Time
	events []string
}

func (l *log) add(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("%s %s @%s", ev.Fault.ID, ev.Phase, ev.At.Sub(l.start).Round(100*time.Millisecond))
	if ev.Err != nil {
		s += " err=" + ev.Err.Error()
	}
	l.events = append(l.events, s)
}

func (l *log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.events, "; ")
}

// setup deploys three fake validators and a schedule environment.
func setup(t *testing.T, cluster func(*fake.Cluster) runners.Cluster, fs ...plan.Fault) (*fake.Cluster, *Env, *log) {
	t.Helper()
	p := &plan.Plan{Seed: 1, Faults: fs, Topology: plan.Topology{Validators: 3, SecurityParam: 2,
		Slot: plan.Duration(time.Second), ActiveSlotCoeff: 1},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second)}}
	for i := 0; i < 3; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	rc, err := fake.New(fake.Options{}).Deploy(context.Background(), runners.DeploySpec{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.(*fake.Cluster)
	l := &log{start: time.Now()}
	env := &Env{Plan: p, Cluster: c, OnEvent: l.add, Height: func() uint64 { return uint64(c.Height()) }}
	if cluster != nil {
		env.Cluster = cluster(c)
	}
	for _, n := range c.Nodes() {
		env.Nodes = append(env.Nodes, nodeclient.Node{Name: n.Name(), Client: n.(*fake.Node)})
	}
	return c, env, l
}

func TestKillRestartsAfterDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, l := setup(t, nil, plan.Fault{ID: "f1", Kind: plan.FaultKill, Targets: sel("validator-1"), At: wall(2), Kill: &plan.KillParams{RestartAfter: wall(3)}})
		s := Start(context.Background(), env)
		time.Sleep(10 * time.Second)
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		if got := l.String(); got != "f1 start @2s; f1 heal @5s" {
			t.Errorf("events = %s", got)
		}
		if got := strings.Join(c.CallLog("kill", "start"), "; "); got != "validator-1 kill; validator-1 start" {
			t.Errorf("calls = %s", got)
		}
	})
}

func TestPartitionBlocksBothSidesAndHealsAtStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, l := setup(t, nil, plan.Fault{ID: "f1", Kind: plan.FaultPartition,
			Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}}, At: wall(1)})
		s := Start(context.Background(), env)
		time.Sleep(3 * time.Second)
		want := map[string]string{"validator-0": "peer-validator-1,peer-validator-2", "validator-1": "peer-validator-0", "validator-2": "peer-validator-0"}
		for n, w := range want {
			if got := strings.Join(c.Node(n).Blocked(), ","); got != w {
				t.Errorf("%s blocks %q, want %q", n, got, w)
			}
		}
		s.Stop()
		for n := range want {
			if b := c.Node(n).Blocked(); len(b) != 0 {
				t.Errorf("%s still blocks %v after the run", n, b)
			}
		}
		if got := l.String(); got != "f1 start @1s; f1 heal @3s" {
			t.Errorf("events = %s", got)
		}
	})
}

func TestIsolateUsesIsolatorOrHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := plan.Fault{ID: "f1", Kind: plan.FaultIsolate, Targets: sel("validator-2"), Duration: wall(2)}
		c, env, _ := setup(t, nil, f)
		Start(context.Background(), env).Stop()
		if got := strings.Join(c.CallLog("isolate", "reconnect", "block_peers"), "; "); got != "validator-2 isolate; validator-2 reconnect" {
			t.Errorf("with Isolator: %s", got)
		}
		hide := func(c *fake.Cluster) runners.Cluster { return struct{ runners.Cluster }{c} }
		c, env, _ = setup(t, hide, f)
		s := Start(context.Background(), env)
		time.Sleep(time.Second)
		if got := strings.Join(c.Node("validator-2").Blocked(), ","); got != "peer-validator-0,peer-validator-1" {
			t.Errorf("isolated node blocks %q", got)
		}
		if got := strings.Join(c.Node("validator-0").Blocked(), ","); got != "peer-validator-2" {
			t.Errorf("peer blocks %q, want the isolated node", got)
		}
		time.Sleep(2 * time.Second) // heals after its 2 s duration
		if b := c.Node("validator-2").Blocked(); len(b) != 0 {
			t.Errorf("still blocked after the duration: %v", b)
		}
		s.Stop()
	})
}

func TestLatencyAndClockSkewHeal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, _ := setup(t, nil,
			plan.Fault{ID: "f1", Kind: plan.FaultLatency, Targets: sel("validator-0"), Latency: &plan.LatencyParams{Delay: plan.Duration(200 * time.Millisecond), Loss: 0.1}},
			plan.Fault{ID: "f2", Kind: plan.FaultClockSkew, Targets: sel("validator-1"), ClockSkew: &plan.ClockSkewParams{Offset: plan.Duration(-3 * time.Second)}})
		s := Start(context.Background(), env)
		time.Sleep(time.Second)
		if c.Node("validator-1").Offset() != -3*time.Second {
			t.Errorf("offset = %v", c.Node("validator-1").Offset())
		}
		s.Stop()
		if got := strings.Join(c.CallLog("link_fault"), "; "); got !=
			"validator-0 link_fault delay=200ms loss=0.1 peers=peer-validator-1,peer-validator-2; validator-0 link_fault delay=0ms loss=0 peers=peer-validator-1,peer-validator-2" {
			t.Errorf("link faults = %s", got)
		}
		if c.Node("validator-1").Offset() != 0 {
			t.Errorf("offset after heal = %v", c.Node("validator-1").Offset())
		}
	})
}

func TestBugSwitchesOnAndOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, _ := setup(t, nil,
			plan.Fault{ID: "f1", Kind: plan.FaultBug, Bug: &plan.BugParams{Name: "stop_applying"}, Targets: sel("validator-1", "validator-2")})
		s := Start(context.Background(), env)
		time.Sleep(time.Second)
		s.Stop()
		if got, want := strings.Join(c.CallLog("bugs"), "; "),
			"validator-1 bugs map[stop_applying:true]; validator-2 bugs map[stop_applying:true]; "+
				"validator-1 bugs map[stop_applying:false]; validator-2 bugs map[stop_applying:false]"; got != want {
			t.Errorf("bug calls = %s\nwant        %s", got, want)
		}
	})
}

func TestBlockSpansAndSkips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, l := setup(t, nil,
			plan.Fault{ID: "f1", Kind: plan.FaultPause, Targets: sel("validator-0"), At: plan.Span{Blocks: 4}, Duration: plan.Span{Slots: 2}},
			plan.Fault{ID: "f2", Kind: plan.FaultPause, Targets: sel("validator-1"), At: wall(100)})
		time.Sleep(3 * time.Second) // the drive phase starts at height 3
		s := Start(context.Background(), env)
		time.Sleep(10 * time.Second)
		s.Stop()
		if got := l.String(); got != "f1 start @7s; f1 heal @9s; f2 skipped @13s" {
			t.Errorf("events = %s (want f1 at height 3+4, healed 2 slots later; f2 never started)", got)
		}
		if got := strings.Join(c.CallLog("pause", "resume"), "; "); got != "validator-0 pause; validator-0 resume" {
			t.Errorf("calls = %s", got)
		}
	})
}

func TestMissingCapabilityIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hide := func(c *fake.Cluster) runners.Cluster { return struct{ runners.Cluster }{c} }
		_, env, l := setup(t, hide, plan.Fault{ID: "f1", Kind: plan.FaultKill, Targets: sel("validator-0"), Kill: &plan.KillParams{}})
		err := Start(context.Background(), env).Stop()
		if err == nil || !strings.Contains(err.Error(), "fault f1 (kill): the runner cannot kill nodes") {
			t.Errorf("err = %v", err)
		}
		if !strings.Contains(l.String(), "f1 start @0s err=the runner cannot kill nodes") {
			t.Errorf("events = %s", l)
		}
	})
}

func TestMissingParamsAreReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, env, _ := setup(t, nil, plan.Fault{ID: "f1", Kind: plan.FaultLatency, Targets: sel("validator-0")})
		err := Start(context.Background(), env).Stop()
		if err == nil || !strings.Contains(err.Error(), "fault f1 (latency): the latency fault has no latency parameters") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestBugNamesMatchTheReferenceNode keeps the script's bug names and the
// reference node's in step: a name only one side knows would pass plan
// validation and fail at run time, or never be offered.
func TestBugNamesMatchTheReferenceNode(t *testing.T) {
	if !slices.Equal(plan.Bugs, nodeapi.BugNames()) {
		t.Errorf("plan.Bugs = %v, the reference node has %v", plan.Bugs, nodeapi.BugNames())
	}
}

// TestEveryFaultKindHasApplyAndHeal keeps the kind table complete: a fault
// kind the plan language offers but the engine cannot start would be
// scheduled and silently do nothing.
func TestEveryFaultKindHasApplyAndHeal(t *testing.T) {
	for _, k := range plan.FaultKinds {
		h, ok := kinds[k]
		if !ok || h.apply == nil || h.heal == nil {
			t.Errorf("fault kind %q has no apply or heal in the engine", k)
		}
	}
	if len(kinds) != len(plan.FaultKinds) {
		t.Errorf("the engine knows %d fault kinds, the plan %d", len(kinds), len(plan.FaultKinds))
	}
}

// A fault a hook starts applies at once, heals on Heal, after its duration,
// or at the end of the run, whichever comes first.
func TestStartNowHealsOnHealDurationOrStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env, l := setup(t, nil)
		s := Start(context.Background(), env)
		ctx := context.Background()
		part := plan.Fault{ID: "h1.f1", Kind: plan.FaultPartition,
			Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}}}
		if err := s.StartNow(ctx, part); err != nil {
			t.Fatal(err)
		}
		if len(c.Node("validator-0").Blocked()) != 2 {
			t.Fatal("the partition was not applied when StartNow returned")
		}
		if err := s.StartNow(ctx, part); err == nil || !strings.Contains(err.Error(), "already active") {
			t.Errorf("starting an active fault again: %v", err)
		}
		time.Sleep(time.Second)
		if err := s.Heal(ctx, "h1.f1"); err != nil {
			t.Fatal(err)
		}
		if b := c.Node("validator-0").Blocked(); len(b) != 0 {
			t.Errorf("validator-0 still blocks %v after Heal returned", b)
		}
		if err := s.Heal(ctx, "h1.f1"); err == nil {
			t.Error("healing a healed fault is not an error")
		}
		pause := plan.Fault{ID: "h1.f2", Kind: plan.FaultPause, Targets: sel("validator-1"), Duration: wall(2)}
		kill := plan.Fault{ID: "h1.f3", Kind: plan.FaultKill, Targets: sel("validator-2"), Kill: &plan.KillParams{}}
		for _, f := range []plan.Fault{pause, kill} {
			if err := s.StartNow(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second)
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		want := "h1.f1 start @0s; h1.f1 heal @1s; h1.f2 start @1s; h1.f3 start @1s; h1.f2 heal @3s; h1.f3 heal @6s"
		if got := l.String(); got != want {
			t.Errorf("events = %s\nwant %s", got, want)
		}
		if err := s.StartNow(ctx, pause); err == nil || !strings.Contains(err.Error(), "run window has closed") {
			t.Errorf("StartNow after Stop: %v", err)
		}
	})
}

// events captures the full fault events.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

func (e *events) of(id string, ph Phase) Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.evs {
		if ev.Fault.ID == id && ev.Phase == ph {
			return ev
		}
	}
	return Event{}
}

// lacking is a cluster whose kernel cannot delay: ImpairLinks fails as a
// kernel without netem does.
type lacking struct{ *fake.Cluster }

func (l lacking) ImpairLinks(context.Context, string, []string, []string, runners.Impairment) (string, error) {
	return "", fmt.Errorf("%w: the kernel has no netem qdisc (sch_netem)", runners.ErrKernelLacks)
}

func TestNetworkFaultsGoThroughTheKernelWhereTheyCan(t *testing.T) {
	// The partition through the nodes' own hooks: each side blocks the other.
	const nodeCalls = "validator-0 block_peers peer-validator-1,peer-validator-2; validator-1 block_peers peer-validator-0; validator-2 block_peers peer-validator-0; " +
		"validator-0 unblock_peers peer-validator-1,peer-validator-2; validator-1 unblock_peers peer-validator-0; validator-2 unblock_peers peer-validator-0"

	part := func(via plan.Via) plan.Fault {
		return plan.Fault{ID: "f1", Kind: plan.FaultPartition, Via: via, At: wall(1), Duration: wall(2),
			Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}}}
	}
	lat := plan.Fault{ID: "f2", Kind: plan.FaultLatency, Targets: sel("validator-0"), At: wall(1), Duration: wall(2),
		Latency: &plan.LatencyParams{Delay: plan.Duration(200 * time.Millisecond)}}
	for _, tc := range []struct {
		name    string
		kernel  bool
		wrap    func(*fake.Cluster) runners.Cluster
		fault   plan.Fault
		via     plan.Via
		applied string // in the start event's Measured
		calls   string // the cluster's calls
		err     string
	}{
		{name: "auto, kernel network", kernel: true, fault: part(plan.ViaAuto), via: plan.ViaKernel,
			applied: "in the kernel: f1-1-2: 2/2 links cut",
			calls:   "kernel_cut f1-1-2 validator-0|validator-1,validator-2; kernel_heal f1-1-2"},
		{name: "auto, loopback", fault: part(plan.ViaAuto), via: plan.ViaNode,
			applied: "by the nodes' testing API: the fake cluster's network takes no kernel faults",
			calls:   nodeCalls},
		{name: "node asked", kernel: true, fault: part(plan.ViaNode), via: plan.ViaNode,
			applied: `by the nodes' testing API: the scenario asked for them (via="node")`,
			calls:   nodeCalls},
		{name: "kernel asked, loopback", fault: part(plan.ViaKernel),
			err: `via="kernel": the fake cluster's network takes no kernel faults`},
		{name: "kernel lacks netem, auto", kernel: true, wrap: func(c *fake.Cluster) runners.Cluster { return lacking{c} },
			fault: lat, via: plan.ViaNode, applied: "by the nodes' testing API: the kernel cannot apply this fault: the kernel has no netem qdisc",
			calls: "validator-0 link_fault delay=200ms loss=0 peers=peer-validator-1,peer-validator-2; " +
				"validator-0 link_fault delay=0ms loss=0 peers=peer-validator-1,peer-validator-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, env, _ := setup(t, tc.wrap, tc.fault)
				c.SetKernelNetwork(tc.kernel)
				evs := &events{}
				env.OnEvent = evs.add
				s := Start(context.Background(), env)
				time.Sleep(5 * time.Second)
				err := s.Stop()
				start := evs.of(tc.fault.ID, Started)
				if tc.err != "" {
					if err == nil || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("Stop = %v, want %q", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if start.Via != tc.via || !strings.HasPrefix(start.Measured, tc.applied) {
					t.Errorf("started via %q: %q\nwant via %q: %q...", start.Via, start.Measured, tc.via, tc.applied)
				}
				heal := evs.of(tc.fault.ID, Healed)
				if heal.Via != tc.via {
					t.Errorf("healed via %q, want %q", heal.Via, tc.via)
				}
				if tc.via == plan.ViaKernel && !strings.HasSuffix(heal.Measured, "; peers back after 0s") {
					t.Errorf("a healed kernel cut does not say when the peers came back: %q", heal.Measured)
				}
				ops := []string{"kernel_cut", "kernel_heal", "kernel_impair", "block_peers", "unblock_peers", "link_fault"}
				if got := strings.Join(c.CallLog(ops...), "; "); got != tc.calls {
					t.Errorf("calls\n %s\nwant\n %s", got, tc.calls)
				}
			})
		})
	}
}

// Peers that do not come back after a heal are reported by name, with how
// many each has of how many before, once the wait runs out.
func TestPeersNotBackAreNamed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, env, _ := setup(t, nil)
		s := &Schedule{env: env}
		got := s.peersBack(context.Background(), map[string]int{"validator-0": 2, "validator-1": 9})
		if want := "peers not all back after 20s: validator-1 has 1/9"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
		if got := s.peersBack(context.Background(), map[string]int{"validator-0": 2}); got != "peers back after 0s" {
			t.Errorf("all back: %q", got)
		}
	})
}

// hookless is a node without fault hooks (a CometBFT node).
type hookless struct{ *fake.Node }

func (hookless) BlockPeers(context.Context, []string) error {
	return fmt.Errorf("%w: outside faults only", nodeclient.ErrNoFaultHooks)
}

func (hookless) UnblockPeers(context.Context, []string) error {
	return fmt.Errorf("%w: outside faults only", nodeclient.ErrNoFaultHooks)
}

// TestNetworkFaultOnNodesWithoutHooks: where the kernel cannot cut links
// and the nodes have no hooks, the partition fails once, naming both
// reasons, and its heal does not fail a second time.
func TestNetworkFaultOnNodesWithoutHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hide := func(c *fake.Cluster) runners.Cluster { return struct{ runners.Cluster }{c} }
		_, env, _ := setup(t, hide, plan.Fault{ID: "f1", Kind: plan.FaultPartition,
			Partition: &plan.PartitionParams{Groups: [][]string{{"validator-0"}, {"validator-1", "validator-2"}}}, At: wall(1), Duration: wall(2)})
		for i := range env.Nodes {
			env.Nodes[i].Client = hookless{env.Nodes[i].Client.(*fake.Node)}
		}
		var errs []string
		env.OnEvent = func(ev Event) {
			if ev.Err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: %v", ev.Fault.ID, ev.Phase, ev.Err))
			}
		}
		s := Start(context.Background(), env)
		time.Sleep(5 * time.Second)
		s.Stop()
		if len(errs) != 1 || !strings.Contains(errs[0], "the nodes have no fault hooks, and the kernel cannot apply this partition here: the runner cannot apply network faults in the kernel") {
			t.Fatalf("errors = %q, want one naming both reasons", errs)
		}
	})
}

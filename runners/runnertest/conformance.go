// Package runnertest holds the conformance suite every runner must pass: it
// deploys a small topology of real nodes and checks the endpoints, block
// production, the announced capabilities, every node control the runner
// implements, log collection and teardown.
package runnertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// LeftoverChecker is implemented by clusters that can list what of theirs
// still exists (processes, containers, namespaces). After Teardown the list
// must be empty.
type LeftoverChecker interface {
	Leftovers(ctx context.Context) ([]string, error)
}

// Slot is the slot duration of the suite's topology.
const Slot = 300 * time.Millisecond

// Plan returns the suite's topology of the named node kind ("" is the
// reference node) with fast slots. The checks stop, kill or pause one node
// and expect the others to go on: any reference node makes blocks alone,
// but a BFT chain needs more than two thirds of its validators, so other
// kinds get four.
func Plan(kind string) *plan.Plan {
	validators := 2
	if kind != "" && kind != nodekind.Default {
		validators = 4
	}
	p := &plan.Plan{
		Scenario: "conformance",
		Seed:     42,
		Topology: plan.Topology{
			Node: kind, Validators: validators, Network: plan.NetworkStar,
			Slot: plan.Duration(Slot), ActiveSlotCoeff: 0.9, SecurityParam: 5,
		},
		Wallets: plan.Wallets{Count: 2, Funds: 100},
	}
	for i := range validators {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{
			Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i,
		})
	}
	return p
}

// Conformance runs the suite against the runner newRunner builds, with
// nodes of the named kind ("" is the reference node; the kind's package must
// be linked in). It deploys once and runs the checks in order as subtests;
// a failed check stops the suite because later ones rely on a healthy
// cluster.
func Conformance(t *testing.T, kindName string, newRunner func(t *testing.T) runners.Runner) {
	kind, err := nodekind.Get(kindName)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t)
	if r.Name() == "" {
		t.Fatal("runner has no name")
	}
	ctx := context.Background()
	spec := runners.DeploySpec{Plan: Plan(kindName), RunDir: t.TempDir(), ChainStart: time.Now()}
	c, err := r.Deploy(ctx, spec)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	torn := false
	t.Cleanup(func() {
		if !torn {
			_ = c.Teardown(context.Background())
		}
	})
	s := &suite{r: r, c: c, kind: kind}
	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"Nodes", s.nodes},
		{"Endpoints", s.endpoints},
		{"HeightsAdvance", s.heightsAdvance},
		{"Capabilities", s.capabilities},
		{"Restart", s.restart},
		{"KillStart", s.killStart},
		{"StopStart", s.stopStart},
		{"PauseResume", s.pauseResume},
		{"CollectLogs", s.collectLogs},
		{"Teardown", func(t *testing.T) { torn = true; s.teardown(t) }},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.fn) {
			t.Fatalf("%s failed; stopping the suite", st.name)
		}
	}
}

type suite struct {
	r    runners.Runner
	c    runners.Cluster
	kind nodekind.Kind
}

func (s *suite) node(t *testing.T, name string) runners.Node {
	t.Helper()
	for _, n := range s.c.Nodes() {
		if n.Name() == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return nil
}

func (s *suite) nodes(t *testing.T) {
	want := Plan(s.kind.Name()).Topology.Nodes
	got := s.c.Nodes()
	if len(got) != len(want) {
		t.Fatalf("%d nodes, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, n := range got {
		if n.Name() != want[i].Name || n.Role() != want[i].Role {
			t.Errorf("node %d = %s/%s, want %s/%s", i, n.Name(), n.Role(), want[i].Name, want[i].Role)
		}
		for _, u := range []string{n.API(), n.TestingAPI()} {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: endpoint %q is not an HTTP URL", n.Name(), u)
			}
			if seen[u] {
				t.Errorf("%s: endpoint %s shared with another node or API", n.Name(), u)
			}
			seen[u] = true
		}
	}
}

func (s *suite) endpoints(t *testing.T) {
	ctx := context.Background()
	for _, n := range s.c.Nodes() {
		eventually(t, env.Scaled(60*time.Second), n.Name()+" answers its API", func() error {
			_, err := s.height(ctx, n)
			return err
		})
		eventually(t, env.Scaled(10*time.Second), n.Name()+" second endpoint answers", func() error {
			return s.auxAnswers(ctx, n)
		})
	}
}

func (s *suite) heightsAdvance(t *testing.T) {
	ctx := context.Background()
	for _, n := range s.c.Nodes() {
		h := s.mustHeight(t, ctx, n)
		s.reachHeight(t, ctx, n, h+2, env.Scaled(30*time.Second))
	}
}

// capabilities: the capabilities the runner registered (runners.Info.Caps)
// must match the controls its cluster implements.
func (s *suite) capabilities(t *testing.T) {
	info, err := runners.Lookup(s.r.Name())
	if err != nil {
		t.Fatalf("the runner is not registered: %v", err)
	}
	for _, m := range CapMismatches(info.Caps, s.c) {
		t.Error(m)
	}
}

// CapMismatches compares announced capabilities with the controls cluster
// implements: an announced capability with a control interface must be
// implemented, an implemented control must be announced, and a Killer must
// also be a StopStarter. It returns one message per mismatch. cluster may
// be a nil pointer of the runner's cluster type: only its type is asked.
func CapMismatches(caps plan.Capabilities, cluster runners.Cluster) []string {
	var out []string
	check := func(c plan.Capability, implemented bool, iface string) {
		if caps.Has(c) != implemented {
			out = append(out, fmt.Sprintf("capability %s announced=%v but cluster implements %s=%v", c, caps.Has(c), iface, implemented))
		}
	}
	_, restarter := cluster.(runners.Restarter)
	_, killer := cluster.(runners.Killer)
	_, stopStarter := cluster.(runners.StopStarter)
	_, pauser := cluster.(runners.Pauser)
	_, logs := cluster.(runners.LogCollector)
	_, kernel := cluster.(runners.NetFaulter)
	check(plan.CapRestart, restarter, "Restarter")
	check(plan.CapKill, killer, "Killer")
	check(plan.CapPause, pauser, "Pauser")
	check(plan.CapLogs, logs, "LogCollector")
	check(plan.CapKernelNetwork, kernel, "NetFaulter")
	if killer && !stopStarter {
		out = append(out, "cluster implements Killer without StopStarter: a killed node cannot be started again")
	}
	if _, isolator := cluster.(runners.Isolator); isolator && !caps.Has(plan.CapIsolate) {
		out = append(out, "cluster implements Isolator but does not announce isolate")
	}
	return out
}

// restart: the node comes back and its chain continues from where it was.
func (s *suite) restart(t *testing.T) {
	rs, ok := s.c.(runners.Restarter)
	if !ok {
		t.Skip("runner does not restart nodes")
	}
	ctx := context.Background()
	n := s.node(t, "validator-1")
	before := s.mustHeight(t, ctx, n)
	// Probe the node while it restarts: a real restart has a moment when
	// nothing answers.
	stop := make(chan struct{})
	var wentDown atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.height(ctx, n); err != nil {
				wentDown.Store(true)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	err := rs.Restart(ctx, n.Name())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if !wentDown.Load() {
		t.Fatalf("%s answered throughout Restart: it was not restarted", n.Name())
	}
	after := s.reachHeight(t, ctx, n, before, env.Scaled(30*time.Second))
	s.reachHeight(t, ctx, n, after+1, env.Scaled(30*time.Second))
	t.Logf("%s: height %d before restart, %d after", n.Name(), before, after)
}

// killStart: a killed node stops answering, and once started again, alone,
// it is back at its height: it recovered from its own data.
func (s *suite) killStart(t *testing.T) {
	k, ok := s.c.(runners.Killer)
	if !ok {
		t.Skip("runner does not kill nodes")
	}
	ss := s.c.(runners.StopStarter)
	ctx := context.Background()
	n0, n1 := s.node(t, "validator-0"), s.node(t, "validator-1")
	h1 := s.mustHeight(t, ctx, n1)
	if err := k.Kill(ctx, n1.Name()); err != nil {
		t.Fatalf("kill: %v", err)
	}
	s.goesDown(t, ctx, n1, env.Scaled(5*time.Second))
	// With its only peer down too, the node can only get its chain back from disk.
	if err := k.Kill(ctx, n0.Name()); err != nil {
		t.Fatalf("kill: %v", err)
	}
	s.goesDown(t, ctx, n0, env.Scaled(5*time.Second))
	if err := ss.Start(ctx, n1.Name()); err != nil {
		t.Fatalf("start after kill: %v", err)
	}
	got := s.mustHeight(t, ctx, n1)
	if got < h1 {
		t.Fatalf("%s restarted alone at height %d, below its height %d before the kill", n1.Name(), got, h1)
	}
	t.Logf("%s: height %d before the kill, %d when started alone", n1.Name(), h1, got)
	if err := ss.Start(ctx, n0.Name()); err != nil {
		t.Fatalf("start after kill: %v", err)
	}
	for _, n := range []runners.Node{n0, n1} {
		h := s.mustHeight(t, ctx, n)
		s.reachHeight(t, ctx, n, h+2, env.Scaled(30*time.Second))
	}
}

// stopStart: a stopped node stops answering while the other keeps
// producing, and once started it catches up.
func (s *suite) stopStart(t *testing.T) {
	ss, ok := s.c.(runners.StopStarter)
	if !ok {
		t.Skip("runner does not stop and start nodes")
	}
	ctx := context.Background()
	n0, n1 := s.node(t, "validator-0"), s.node(t, "validator-1")
	if err := ss.Stop(ctx, n1.Name()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	s.goesDown(t, ctx, n1, env.Scaled(5*time.Second))
	h0 := s.mustHeight(t, ctx, n0)
	h0 = s.reachHeight(t, ctx, n0, h0+2, env.Scaled(30*time.Second))
	if err := ss.Start(ctx, n1.Name()); err != nil {
		t.Fatalf("start: %v", err)
	}
	s.reachHeight(t, ctx, n1, h0, env.Scaled(30*time.Second))
}

// pauseResume: a paused node's height stalls while the other advances, and
// after resuming it catches up.
func (s *suite) pauseResume(t *testing.T) {
	p, ok := s.c.(runners.Pauser)
	if !ok {
		t.Skip("runner does not pause nodes")
	}
	ctx := context.Background()
	n0, n1 := s.node(t, "validator-0"), s.node(t, "validator-1")
	h1 := s.mustHeight(t, ctx, n1)
	if err := p.Pause(ctx, n1.Name()); err != nil {
		t.Fatalf("pause: %v", err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = p.Resume(ctx, n1.Name())
		}
	}()
	h0 := s.mustHeight(t, ctx, n0)
	h0 = s.reachHeight(t, ctx, n0, h0+3, env.Scaled(30*time.Second))
	// A frozen node either does not answer or answers with a stalled height;
	// one block in flight at the pause is allowed.
	if got, err := s.height(ctx, n1); err == nil && got > h1+1 {
		t.Fatalf("paused %s advanced from %d to %d while paused", n1.Name(), h1, got)
	}
	if h0 <= h1+1 {
		t.Fatalf("the other node did not advance past the paused one (%d vs %d)", h0, h1)
	}
	if err := p.Resume(ctx, n1.Name()); err != nil {
		t.Fatalf("resume: %v", err)
	}
	resumed = true
	got := s.reachHeight(t, ctx, n1, h0, env.Scaled(30*time.Second))
	t.Logf("%s paused at height %d; the other reached %d; caught up to %d", n1.Name(), h1, h0, got)
}

// collectLogs: one non-empty file per node.
func (s *suite) collectLogs(t *testing.T) {
	lc, ok := s.c.(runners.LogCollector)
	if !ok {
		t.Skip("runner does not collect logs")
	}
	dir := t.TempDir()
	if err := lc.CollectLogs(context.Background(), dir); err != nil {
		t.Fatalf("collect logs: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.c.Nodes() {
		var files []string
		for _, e := range entries {
			if strings.Contains(e.Name(), n.Name()) {
				files = append(files, e.Name())
			}
		}
		if len(files) != 1 {
			t.Errorf("%s: %d log files %v, want one", n.Name(), len(files), files)
			continue
		}
		st, err := os.Stat(filepath.Join(dir, files[0]))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: log file %s empty or unreadable (%v)", n.Name(), files[0], err)
		}
	}
}

// teardown: nothing answers or remains, and Teardown may be called again,
// also concurrently.
func (s *suite) teardown(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.c.Teardown(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("teardown: %v", err)
		}
	}
	for _, n := range s.c.Nodes() {
		if _, err := s.height(ctx, n); err == nil {
			t.Errorf("%s still answers after teardown", n.Name())
		}
	}
	if lc, ok := s.c.(LeftoverChecker); ok {
		left, err := lc.Leftovers(ctx)
		if err != nil {
			t.Fatalf("leftovers: %v", err)
		}
		if len(left) > 0 {
			t.Fatalf("left after teardown: %v", left)
		}
	}
	if err := s.c.Teardown(ctx); err != nil {
		t.Fatalf("second teardown: %v", err)
	}
}

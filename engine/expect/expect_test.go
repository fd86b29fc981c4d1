package expect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/fake"
)

// cluster deploys three fake validators with 1 s blocks and k=3.
func cluster(t *testing.T, opts fake.Options) (*fake.Cluster, *Env) {
	t.Helper()
	p := &plan.Plan{Seed: 1, Topology: plan.Topology{Validators: 3, Network: plan.NetworkStar, SecurityParam: 3,
		Slot: plan.Duration(time.Second), ActiveSlotCoeff: 1},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second), ExpectedBlocks: 10}}
	for i := 0; i < 3; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	rc, err := fake.New(opts).Deploy(context.Background(), runners.DeploySpec{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.(*fake.Cluster)
	env := &Env{Plan: p, RetryDelay: time.Millisecond, CatchUp: time.Second}
	sources := map[string]feed.Source{}
	for _, n := range c.Nodes() {
		fn := n.(*fake.Node)
		env.Nodes = append(env.Nodes, nodeclient.Node{Name: fn.Name(), Role: fn.Role(), Client: fn})
		sources[fn.Name()] = fn
	}
	env.Feed = feed.New(sources, nil)
	return c, env
}

func mustFail(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("passed, want failure %q", want)
	}
	if err.Error() != want {
		t.Fatalf("message:\n%s\nwant:\n%s", err, want)
	}
}

func tipOf(t *testing.T, c *fake.Cluster, node string) string {
	in, err := c.Node(node).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return in.Tip[:12]
}

// recorder keeps env.History the way the engine does: one observation per
// node per feed poll, then every block the feed fetched.
type recorder struct {
	env   *Env
	start time.Time
}

func record(env *Env) *recorder {
	r := &recorder{env: env, start: time.Now()}
	env.History = history.New()
	env.Feed.OnNode(func(name string, st feed.NodeState) {
		at := st.At.Sub(r.start)
		if !st.Valid {
			env.History.Unreachable(name, at, fmt.Sprint(st.Err))
			return
		}
		env.History.Observe(name, at, history.Observation{Height: st.Info.Height, Tip: st.Info.Tip, LIB: st.Info.LIB, Mode: st.Info.Mode})
	})
	return r
}

// pollFor polls the feed every second for d.
func (r *recorder) pollFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Second) {
		r.env.Feed.Poll(context.Background())
	}
	r.env.Feed.Poll(context.Background())
	r.env.Feed.EachBlock(r.env.History.AddBlock)
}

func (r *recorder) now() time.Duration { return time.Since(r.start) }

func TestLivenessJudgesTheWindowNotTheEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		rec := record(env)
		rec.pollFor(3500 * time.Millisecond)
		c.Isolate(ctx, "validator-2") // frozen at height 3
		frozen := rec.now()
		rec.pollFor(12 * time.Second) // others at 16: validator-2 left behind for 11 s, more than 8 block intervals
		env.History.SetWindow(0, rec.now())
		l := &Liveness{Tolerance: 0.8, Lag: 2}
		_, err := l.Evaluate(ctx, env)
		for _, want := range []string{"validator-2: height 4 at the end, 12 behind the best 16 (lag 2)",
			"validator-2: stalled at height 4 from "} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("frozen validator: err = %v, want it to contain %q", err, want)
			}
		}

		// Healed before evaluation: the stall inside the window still fails.
		c.Reconnect(ctx, "validator-2")
		rec.pollFor(3 * time.Second)
		v, err := l.Evaluate(ctx, env)
		if err == nil || !strings.Contains(err.Error(), "validator-2: stalled at height 4") || strings.Contains(err.Error(), "behind") {
			t.Fatalf("recovered after the stall: err = %v, want only the stall", err)
		}
		ev := v.Evidence.(LivenessEvidence)
		if ev.Target != 13 || ev.NetworkGained != 16 || len(ev.Nodes) != 3 || len(ev.Nodes[2].Stalls) != 1 {
			t.Errorf("evidence = %+v, want target 13 (0.8 of 16 s), gained 16, one stall of validator-2", ev)
		}

		// The same freeze inside a fault window that targets the node is excused.
		env.History.AddFault("isolate", []string{"validator-2"}, frozen, 16*time.Second)
		if _, err := l.Evaluate(ctx, env); err != nil {
			t.Errorf("freeze inside its fault window: %v", err)
		}

		// A window with far more expected blocks than the chain made fails (a).
		env.Plan.Topology.Slot = plan.Duration(100 * time.Millisecond)
		_, err = l.Evaluate(ctx, env)
		if err == nil || !strings.Contains(err.Error(), "below the target 128 of 160.0 expected") {
			t.Errorf("slow network: %v", err)
		}
	})
}

func TestLivenessNoSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, env := cluster(t, fake.Options{Unready: map[string]bool{"validator-0": true, "validator-1": true, "validator-2": true}})
		rec := record(env)
		rec.pollFor(2 * time.Second)
		env.History.SetWindow(0, rec.now())
		_, err := (&Liveness{Tolerance: 0.8, Lag: 2}).Evaluate(context.Background(), env)
		if !errors.Is(err, ErrNoSamples) {
			t.Fatalf("err = %v, want no samples", err)
		}
	})
}

// txSource is a fixed tx workload description.
type txSource struct {
	planned int
	pks     map[string]bool
}

func (s txSource) Planned() int           { return s.planned }
func (s txSource) Tracked(pk string) bool { return s.pks[pk] }

func transfer(pk string) nodeapi.Tx {
	return nodeapi.Tx{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{Outputs: []nodeapi.Note{{Value: 1, PK: pk}}}}}
}

func TestTxInclusion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		src := txSource{planned: 10, pks: map[string]bool{}}
		env.Tx = src
		ti := newTxInclusion(0.5)
		ti.Capture(env)
		for i := 0; i < 4; i++ {
			pk := fmt.Sprintf("w%d", i)
			src.pks[pk] = true
			c.Node("validator-0").AddTx(ctx, transfer(pk))
		}
		c.Node("validator-1").AddTx(ctx, transfer("stranger")) // not a workload tx
		time.Sleep(2 * time.Second)
		env.Feed.Poll(ctx)
		mustFail(t, errOf(ti.Evaluate(ctx, env)), "transaction inclusion observed 4 below required 5 (planned 10, min_ratio 0.5)")

		src.pks["w4"] = true
		c.Node("validator-2").AddTx(ctx, transfer("w4"))
		go func() { time.Sleep(1500 * time.Millisecond); env.Feed.Poll(ctx) }()
		env.CatchUp = 5 * time.Second
		if err := errOf(ti.Evaluate(ctx, env)); err != nil { // waits for the late block
			t.Errorf("after catch-up: %v", err)
		}
		synctest.Wait()
	})
}

func TestTxInclusionNoSamples(t *testing.T) {
	_, env := cluster(t, fake.Options{})
	ti := newTxInclusion(0.5)
	mustFail(t, errOf(ti.Evaluate(context.Background(), env)), "transaction inclusion expectation not captured")
	ti.Capture(env)
	env.Tx = txSource{}
	err := errOf(ti.Evaluate(context.Background(), env))
	if !errors.Is(err, ErrNoSamples) || err.Error() != "no samples: no transactions were planned" {
		t.Fatalf("err = %v", err)
	}
}

type daSource struct {
	chans []string
	blobs int
}

func (d daSource) Channels() []string { return d.chans }
func (d daSource) PlannedBlobs() int  { return d.blobs }

func TestDAInclusion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
		env.DA = daSource{chans: []string{a, b}, blobs: 4}
		d := newDAInclusion(0.8)
		d.Capture(env)
		ins := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelInscribe,
			Payload: fmt.Appendf(nil, `{"channel_id":%q,"inscription":[],"parent":"00","signer":"00"}`, a)}}}}
		blob := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelBlob,
			Payload: fmt.Appendf(nil, `{"channel":%q,"session":0,"blob":%s,"blob_size":31,"da_storage_gas_price":0,"parent":"00","signer":"00"}`,
				a, "["+strings.Repeat("1,", 31)+"1]")}}}}
		c.Node("validator-0").AddTx(ctx, ins)
		c.Node("validator-0").AddTx(ctx, blob)
		time.Sleep(2 * time.Second)
		env.Feed.Poll(ctx)
		mustFail(t, errOf(d.Evaluate(ctx, env)), "missing inscriptions: observed=1/2 required=2 missing=[bbbbbbbbbbbb]; "+
			"missing blobs: observed_total_blobs=1 expected_total_blobs=4 required_blobs=4 channels_with_blobs=1/2 missing_channels=[bbbbbbbbbbbb]")
		env.DA = daSource{}
		if err := errOf(d.Evaluate(ctx, env)); !errors.Is(err, ErrNoSamples) {
			t.Errorf("no channels: %v, want no samples", err)
		}
	})
}

func TestAgreement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		rec := record(env)
		rec.pollFor(5500 * time.Millisecond)
		c.Isolate(ctx, "validator-2") // height 5, LIB 2: behind but on the same chain
		rec.pollFor(7 * time.Second)  // others at 12, LIB 9
		a := &Agreement{}
		v, err := a.Evaluate(ctx, env)
		if err != nil {
			t.Fatalf("same chain: %v", err)
		}
		if ev := v.Evidence.(SafetyEvidence); ev.LIBs == 0 || len(ev.End) != 3 {
			t.Errorf("evidence = %+v, want LIB sightings and three end LIBs", ev)
		}
		// A LIB reported once in the middle of the run and gone by the end is
		// still judged: the history keeps it.
		forged := strings.Repeat("a", 64)
		env.History.AddBlock(forged, strings.Repeat("b", 64), 2)
		env.History.AddBlock(strings.Repeat("b", 64), env.Feed.Canonical()[0], 1)
		c.ForceLIB("validator-2", forged)
		rec.pollFor(time.Second)
		c.ForceLIB("validator-2", "")
		c.Reconnect(ctx, "validator-2")
		rec.pollFor(3 * time.Second)
		if _, err := endLIBsAgree(ctx, env); err != nil {
			t.Fatalf("the end state must agree for this case: %v", err)
		}
		_, err = a.Evaluate(ctx, env)
		if err == nil || !strings.Contains(err.Error(), "LIB aaaaaaaaaaaa (height 2") || !strings.Contains(err.Error(), "validator-2") {
			t.Fatalf("conflicting LIB seen mid-run: err = %v", err)
		}
	})
}

// endLIBsAgree runs the end-state part of the check alone.
func endLIBsAgree(ctx context.Context, env *Env) ([]libSample, error) {
	samples, conflicts, issues := endState(ctx, env)
	if len(conflicts)+len(issues) > 0 {
		return samples, errors.New(strings.Join(append(conflicts, issues...), "; "))
	}
	return samples, nil
}

func TestAgreementEndState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		rec := record(env)
		rec.pollFor(10 * time.Second)
		c.ForceLIB("validator-1", strings.Repeat("f", 64))
		lib0, _ := c.Node("validator-0").Info(ctx)
		_, err := (&Agreement{}).Evaluate(ctx, env)
		want := fmt.Sprintf("validator-0 and validator-1 disagree on the LIB at height %d: %s vs ffffffffffff", 7, lib0.LIB[:12])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to contain %q", err, want)
		}
	})
}

func TestAgreementNoSamples(t *testing.T) {
	_, env := cluster(t, fake.Options{Unready: map[string]bool{"validator-0": true, "validator-1": true, "validator-2": true}})
	env.History = history.New()
	if _, err := (&Agreement{}).Evaluate(context.Background(), env); !errors.Is(err, ErrNoSamples) {
		t.Fatalf("err = %v, want no samples", err)
	}
}

func TestMetric(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, env := cluster(t, fake.Options{})
		ctx := context.Background()
		time.Sleep(4500 * time.Millisecond)
		c.Isolate(ctx, "validator-1") // stays at 4
		time.Sleep(2 * time.Second)   // others at 6
		check := func(query, op string, v float64) error {
			q, err := ParseQuery(query)
			if err != nil {
				t.Fatal(err)
			}
			return errOf((&Metric{Query: q, Op: plan.CompareOp(op), Value: v}).Evaluate(ctx, env))
		}
		for _, ok := range []struct {
			q  string
			op string
			v  float64
		}{
			{"max(cryptarchia_tip_height)", "==", 6},
			{"min(cryptarchia_tip_height)", "==", 4},
			{"sum(cryptarchia_blocks_received_total{source=\"sync\"})", "==", 3},
			{"count(cryptarchia_tip_height{node!=\"validator-0\"})", "==", 2},
			{"avg(cryptarchia_tip_height)", ">", 5.3},
			{"cryptarchia_blocks_received_total", ">=", 5},
		} {
			if err := check(ok.q, ok.op, ok.v); err != nil {
				t.Errorf("%s %s %g: %v", ok.q, ok.op, ok.v, err)
			}
		}
		mustFail(t, check("cryptarchia_tip_height", ">", 5), "metric cryptarchia_tip_height > 5 violated on validator-1=4")
		mustFail(t, check("max(cryptarchia_tip_height)", "<", 3), "metric max(cryptarchia_tip_height) = 6 over 3 node(s), want < 3")
		err := check("nomos_nope", ">", 0)
		if !errors.Is(err, ErrNoSamples) || err.Error() != "no samples: no node exposes a series matching nomos_nope" {
			t.Errorf("unknown metric: %v", err)
		}
		// A node that does not answer fails the check: its value is unknown.
		if err := c.Pause(ctx, "validator-2"); err != nil {
			t.Fatal(err)
		}
		err = check("max(cryptarchia_tip_height)", ">=", 1)
		if err == nil || !strings.Contains(err.Error(), "1 node(s) did not answer, so the threshold could not be checked on them: validator-2") {
			t.Errorf("a silent node: %v, want a failure naming it", err)
		}
	})
}

func TestLog(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "validator-0.log"), []byte("INFO start\nWARN fork detected at 12\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "validator-1.log"), []byte("INFO start\n"), 0o644)
	env := &Env{LogDir: dir}
	l, err := newLog([]string{"validator-0", "validator-1"}, `fork detected at \d+`)
	if err != nil {
		t.Fatal(err)
	}
	mustFail(t, errOf(l.Evaluate(context.Background(), env)), `pattern /fork detected at \d+/ not found in the log of validator-1`)
	l.Nodes = []string{"validator-0"}
	if _, err := l.Evaluate(context.Background(), env); err != nil {
		t.Errorf("match: %v", err)
	}
	l.Nodes = []string{"validator-9"}
	if _, err := l.Evaluate(context.Background(), env); !errors.Is(err, ErrNoSamples) {
		t.Errorf("missing log: %v, want no samples", err)
	}
	if _, err := l.Evaluate(context.Background(), &Env{}); !errors.Is(err, ErrNoSamples) {
		t.Errorf("no log dir: %v, want no samples", err)
	}
	if _, err := newLog(nil, "("); err == nil {
		t.Error("bad pattern accepted")
	}
}

func TestCustom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, env := cluster(t, fake.Options{})
		ctx := context.Background()
		time.Sleep(3 * time.Second)
		env.Feed.Poll(ctx)
		var got map[string]any
		env.Snapshot = func() map[string]any { return Snapshot(env, map[string]map[string]int{"w1": {"submitted": 3}}) }
		env.Custom = func(_ context.Context, fn string, snap map[string]any) (bool, string, error) {
			got = snap
			return false, "heights differ", nil
		}
		mustFail(t, errOf((&Custom{Func: "check"}).Evaluate(ctx, env)), "custom expectation check: heights differ")
		node := got["nodes"].([]any)[1].(map[string]any)
		if node["name"] != "validator-1" || node["height"] != 3 || node["role"] != "validator" || got["workloads"].(map[string]any)["w1"].(map[string]any)["submitted"] != 3 ||
			got["blocks"].(map[string]any)["height"] != 3 {
			t.Errorf("snapshot = %v", got)
		}
		env.Custom = nil
		mustFail(t, errOf((&Custom{Func: "check"}).Evaluate(ctx, env)), "custom expectation check: no Starlark evaluator was given to the run")
	})
}

// errOf drops the verdict of an evaluation.
func errOf(_ Verdict, err error) error { return err }

func TestNewNeedsTheParamsOfItsKind(t *testing.T) {
	if _, err := New(plan.Expectation{ID: "e1", Kind: plan.ExpectMetric}); err == nil ||
		!strings.Contains(err.Error(), "the metric expectation has no metric parameters") {
		t.Errorf("err = %v", err)
	}
	if _, err := New(plan.Expectation{ID: "e1", Kind: plan.ExpectAgreement}); err != nil {
		t.Errorf("agreement takes no parameters: %v", err)
	}
}

package run_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/fake"
)

// codec builds unsigned stand-in transactions: the fake nodes accept them.
type codec struct {
	fail  error
	panic bool
}

func (c codec) Transfer(i int) (nodeapi.Tx, error) {
	if c.panic {
		panic("codec exploded")
	}
	if c.fail != nil {
		return nodeapi.Tx{}, c.fail
	}
	pk := fmt.Sprintf("wallet-%d", i)
	return nodeapi.Tx{MantleTx: nodeapi.MantleTx{LedgerTx: nodeapi.LedgerTx{
		Inputs: []string{"note-" + pk}, Outputs: []nodeapi.Note{{Value: 100, PK: pk}}}}}, nil
}

func (codec) Inscription(ch, parent string, data []byte) (nodeapi.Tx, error) {
	p := fmt.Appendf(nil, `{"channel_id":%q,"inscription":[],"parent":%q,"signer":"00"}`, ch, parent)
	return nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: nodeapi.OpChannelInscribe, Payload: p}}}}, nil
}

func (codec) MsgID(op nodeapi.Op) (string, error) {
	s := sha256.Sum256(op.Payload)
	return hex.EncodeToString(s[:]), nil
}

func (codec) Signer() string { return "00" }

// testPlan: 3 validators in a star, 1 s blocks, a 10 s window, 5 s cooldown.
func testPlan() *plan.Plan {
	p := &plan.Plan{
		Scenario: "test.star", Seed: 7,
		Topology: plan.Topology{Validators: 3, Network: plan.NetworkStar, Slot: plan.Duration(time.Second),
			ActiveSlotCoeff: 1, SecurityParam: 3},
		Wallets: plan.Wallets{Count: 20, Funds: 100},
		Derived: plan.Derived{BlockInterval: plan.Duration(time.Second), RunDuration: plan.Duration(10 * time.Second),
			ExpectedBlocks: 10, Cooldown: plan.Duration(5 * time.Second)},
	}
	for i := 0; i < 3; i++ {
		p.Topology.Nodes = append(p.Topology.Nodes, plan.Node{Name: fmt.Sprintf("validator-%d", i), Role: plan.RoleValidator, Index: i})
	}
	p.Workloads = []plan.Workload{{ID: "w1", Kind: plan.WorkloadTransactions, Transactions: &plan.Transactions{Rate: 1}}}
	p.Expectations = []plan.Expectation{
		{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.8, Lag: 2}},
		{ID: "e2", Kind: plan.ExpectTxInclusion, Name: "tx inclusion", Inclusion: &plan.InclusionParams{MinRatio: 0.5}, Implicit: true},
		{ID: "e3", Kind: plan.ExpectAgreement, Name: "consensus agreement"},
	}
	return p
}

// recorder collects observer events.
type recorder struct {
	mu     sync.Mutex
	events []run.Event
}

func (r *recorder) observe(ev run.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) phases() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Kind == run.EventPhase {
			out = append(out, string(e.Phase))
		}
	}
	return out
}

func (r *recorder) at(kind run.EventKind) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e.At)
		}
	}
	return out
}

func (r *recorder) phaseAt(ph run.Phase) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Kind == run.EventPhase && e.Phase == ph {
			return e.At
		}
	}
	return -1
}

func opts(t *testing.T, rec *recorder) run.Options {
	return run.Options{RunDir: t.TempDir(), Clients: fake.ClientFactory, Codec: codec{}, Observer: rec.observe}
}

func TestExecutePassesInPhaseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultKill, Targets: plan.Selector{Names: []string{"validator-2"}, Nodes: []string{"validator-2"}},
			At: plan.Span{Wall: plan.Duration(2 * time.Second)}, Kill: &plan.KillParams{RestartAfter: plan.Span{Wall: plan.Duration(3 * time.Second)}}}}
		r := fake.New(fake.Options{})
		rec := &recorder{}
		res, err := run.Execute(context.Background(), p, r, opts(t, rec))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		want := "prepare deploy readiness capture drive cooldown settle evaluate report teardown"
		if got := strings.Join(rec.phases(), " "); got != want {
			t.Errorf("phases = %q\nwant     %q", got, want)
		}
		if res.Outcome != report.OutcomePassed || len(res.Expectations) != 3 {
			t.Fatalf("result = %s with %d expectations, want passed with 3", res.Outcome, len(res.Expectations))
		}
		c := r.Last()
		if c.Teardowns() != 1 {
			t.Errorf("teardowns = %d, want 1", c.Teardowns())
		}
		if got := strings.Join(c.CallLog("kill", "start"), "; "); got != "validator-2 kill; validator-2 start" {
			t.Errorf("fault calls = %q", got)
		}
		heal := rec.at(run.EventFaultHeal)
		if len(heal) != 1 || heal[0] > rec.phaseAt(run.PhaseEvaluate) {
			t.Errorf("fault healed at %v, evaluate at %v: want one heal before evaluation", heal, rec.phaseAt(run.PhaseEvaluate))
		}
		if res.Workloads[0].Counts["submitted"] != 10 {
			t.Errorf("submitted = %d, want 10 (10 s window / 1 s blocks × rate 1)", res.Workloads[0].Counts["submitted"])
		}
		if len(res.Nodes) != 3 || res.Nodes[0].Height < 10 {
			t.Errorf("final nodes = %+v, want 3 nodes at height >= 10", res.Nodes)
		}
	})
}

func TestChaosEndsWithTheWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Workloads = []plan.Workload{{ID: "w1", Kind: plan.WorkloadChaosRestart, ChaosRestart: &plan.ChaosRestart{
			Validators: true, MinDelay: plan.Duration(time.Second), MaxDelay: plan.Duration(time.Second),
			TargetCooldown: plan.Duration(time.Second)}}}
		p.Expectations = p.Expectations[:1]
		rec := &recorder{}
		res, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), opts(t, rec))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		drive, cool, settle := rec.phaseAt(run.PhaseDrive), rec.phaseAt(run.PhaseCooldown), rec.phaseAt(run.PhaseSettle)
		if settle-cool != 5*time.Second {
			t.Errorf("cooldown lasted %v, want the plan's 5s", settle-cool)
		}
		var during, after int
		for _, at := range rec.at(run.EventRestart) {
			switch {
			case at > drive && at <= cool:
				during++
			case at > cool:
				after++
			}
		}
		if during == 0 || after != 0 {
			t.Errorf("restarts in the window = %d, in or after the cooldown = %d; want some, then none", during, after)
		}
		restarts := res.Restarts()
		if len(restarts) != during || len(restarts[0].Nodes) != 1 || restarts[0].Name != "w1" {
			t.Errorf("timeline restarts = %+v, want the %d restarts of w1, each naming its node", restarts, during)
		}
		if w := res.Window; w.Start.Std() != drive || w.End.Std() != cool {
			t.Errorf("window = %+v, want the drive phase %v to %v", w, drive, cool)
		}
	})
}

func TestExpectationFailuresAreAggregated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Expectations = []plan.Expectation{
			{ID: "e1", Kind: plan.ExpectMetric, Name: "tip high", Metric: &plan.MetricParams{Query: "cryptarchia_tip_height", Op: ">", Value: 1000}},
			{ID: "e2", Kind: plan.ExpectLiveness, Name: "liveness", Liveness: &plan.LivenessParams{Tolerance: 0.8, Lag: 2}},
			{ID: "e3", Kind: plan.ExpectLog, Name: "panic logged", Log: &plan.LogParams{Pattern: "panicked",
				Targets: plan.Selector{Names: []string{"validator-0"}, Nodes: []string{"validator-0"}}}},
		}
		res, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), opts(t, &recorder{}))
		var ee *run.ExpectationsError
		if !errors.As(err, &ee) || run.KindOf(err) != run.KindExpectations {
			t.Fatalf("err = %v (kind %v), want expectations failed", err, run.KindOf(err))
		}
		if len(ee.Failures) != 2 || !strings.HasPrefix(ee.Failures[0], "e1 tip high: metric cryptarchia_tip_height > 1000 violated on validator-0=") ||
			!strings.HasPrefix(ee.Failures[1], `e3 panic logged: pattern /panicked/ not found in the log of validator-0`) {
			t.Errorf("failures = %q", ee.Failures)
		}
		if len(res.Expectations) != 3 || !res.Expectations[1].Passed || res.Outcome != report.OutcomeFailed {
			t.Errorf("expectations = %+v, outcome %s: want all 3 evaluated, the middle one passing", res.Expectations, res.Outcome)
		}
	})
}

func TestTeardownOnEveryFailurePath(t *testing.T) {
	cases := []struct {
		name      string
		fake      fake.Options
		codec     codec
		cancelAt  time.Duration
		crashAt   time.Duration
		kind      run.Kind
		errSubstr string
	}{
		{name: "readiness timeout", fake: fake.Options{Unready: map[string]bool{"validator-1": true}}, kind: run.KindInfrastructure,
			errSubstr: "readiness: timed out waiting for HTTP readiness after 1m0s:\n  validator-1: validator-1 info: connection refused"},
		{name: "network readiness", fake: fake.Options{Peers: map[string]int{"validator-0": 1}}, kind: run.KindInfrastructure,
			errSubstr: "timed out waiting for network readiness after 1m0s:\n  validator-0: peers=1, expected=2"},
		{name: "consensus readiness", fake: fake.Options{Bootstrapping: map[string]bool{"validator-2": true}}, kind: run.KindInfrastructure,
			errSubstr: "timed out waiting for consensus readiness after 1m0s:\n  validator-2: mode=Bootstrapping, want Online"},
		{name: "workload error", codec: codec{fail: errors.New("bad key")}, kind: run.KindInfrastructure,
			errSubstr: "drive: workload failure: workload w1: Transaction workload signing failed: could not sign transaction: bad key"},
		{name: "workload panic", codec: codec{panic: true}, kind: run.KindInfrastructure, errSubstr: "workload w1 panicked: codec exploded"},
		{name: "cancel", cancelAt: 5 * time.Second, kind: run.KindInterrupted, errSubstr: "interrupted"},
		{name: "node crash", crashAt: 6 * time.Second, kind: run.KindInfrastructure,
			errSubstr: "drive: node exited unexpectedly: validator-0: exit status 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := testPlan()
				p.Faults = []plan.Fault{{ID: "f1", Kind: plan.FaultPause, Targets: plan.Selector{Nodes: []string{"validator-1"}},
					At: plan.Span{Wall: plan.Duration(time.Second)}}}
				r := fake.New(tc.fake)
				o := opts(t, &recorder{})
				o.Codec = tc.codec
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancelAt > 0 {
					time.AfterFunc(tc.cancelAt, cancel)
				}
				if tc.crashAt > 0 {
					time.AfterFunc(tc.crashAt, func() { r.Last().Crash("validator-0", errors.New("exit status 2")) })
				}
				res, err := run.Execute(ctx, p, r, o)
				if run.KindOf(err) != tc.kind || err == nil || !strings.Contains(err.Error(), tc.errSubstr) {
					t.Fatalf("err = %v (kind %v)\nwant kind %v containing %q", err, run.KindOf(err), tc.kind, tc.errSubstr)
				}
				if n := r.Last().Teardowns(); n != 1 {
					t.Errorf("teardowns = %d, want 1", n)
				}
				paused := len(r.Last().CallLog("pause"))
				if resumed := len(r.Last().CallLog("resume")); paused != resumed {
					t.Errorf("paused %d times, resumed %d: every fault must heal", paused, resumed)
				}
				if res == nil || res.Outcome == report.OutcomePassed || res.Error == "" {
					t.Errorf("result = %+v, want a failed result with the error", res)
				}
			})
		})
	}
}

func TestDeployErrorIsInfrastructure(t *testing.T) {
	r := fake.New(fake.Options{DeployErr: errors.New("no docker")})
	dir := t.TempDir()
	res, err := run.Execute(context.Background(), testPlan(), r, run.Options{Clients: fake.ClientFactory, ReportDir: dir})
	if run.KindOf(err) != run.KindInfrastructure || !strings.Contains(err.Error(), "deploy: no docker") {
		t.Fatalf("err = %v, want deploy infrastructure error", err)
	}
	if res.Outcome != report.OutcomeError {
		t.Errorf("outcome = %s, want error", res.Outcome)
	}
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("report written on the failure path: %v", err)
	}
	defer f.Close()
	if back, err := report.ReadJSON(f); err != nil || back.Outcome != report.OutcomeError || !strings.Contains(back.Error, "no docker") {
		t.Errorf("report.json = %+v, %v", back, err)
	}
}

func TestSlowTestEnvDoublesReadinessTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := run.Options{Clients: fake.ClientFactory, Codec: codec{},
			Getenv: func(k string) string { return map[string]string{"SLOW_TEST_ENV": "true"}[k] }}
		start := time.Now()
		_, err := run.Execute(context.Background(), testPlan(), fake.New(fake.Options{Unready: map[string]bool{"validator-0": true}}), o)
		if err == nil || !strings.Contains(err.Error(), "after 2m0s") {
			t.Fatalf("err = %v, want a timeout after 2m0s", err)
		}
		if d := time.Since(start); d < 2*time.Minute || d > 2*time.Minute+5*time.Second {
			t.Errorf("readiness gave up after %v, want 2m", d)
		}
	})
}

func TestRunWindowInBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Run.Blocks = 20
		p.Derived.RunDuration = plan.Duration(20 * time.Second)
		p.Derived.Cooldown = 0
		rec := &recorder{}
		r := fake.New(fake.Options{})
		if _, err := run.Execute(context.Background(), p, r, opts(t, rec)); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		window := rec.phaseAt(run.PhaseCooldown) - rec.phaseAt(run.PhaseDrive)
		if window < 19*time.Second || window > 22*time.Second {
			t.Errorf("window lasted %v, want about 20 blocks of 1s", window)
		}
	})
}

func TestCodecBuiltFromGenesis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var genesis []string
		o := opts(t, &recorder{})
		o.Codec = nil
		o.NewCodec = func(p *plan.Plan, g *nodeapi.Block) (nodeclient.Codec, error) {
			genesis = append(genesis, g.Header.Parent)
			return codec{}, nil
		}
		if _, err := run.Execute(context.Background(), testPlan(), fake.New(fake.Options{}), o); err != nil {
			t.Fatal(err)
		}
		if len(genesis) != 1 || genesis[0] != nodeapi.GenesisParent {
			t.Errorf("codec factory saw parents %v, want the genesis block once", genesis)
		}
		o.NewCodec = func(*plan.Plan, *nodeapi.Block) (nodeclient.Codec, error) {
			return nil, errors.New("no wallet notes")
		}
		_, err := run.Execute(context.Background(), testPlan(), fake.New(fake.Options{}), o)
		if run.KindOf(err) != run.KindInfrastructure || !strings.Contains(err.Error(), "drive: transaction codec: no wallet notes") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestNothingToCoolDown: a plan without a cooldown (no workloads or faults,
// see plan.Derived) goes from the run window straight to settle, and settle
// is one feed poll, not a pause.
func TestNothingToCoolDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Workloads = nil
		p.Expectations = p.Expectations[:1]
		p.Derived.Cooldown = 0
		rec := &recorder{}
		if _, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), opts(t, rec)); err != nil {
			t.Fatalf("Execute: %v", err)
		}
		drive, cool := rec.phaseAt(run.PhaseDrive), rec.phaseAt(run.PhaseCooldown)
		settle, eval := rec.phaseAt(run.PhaseSettle), rec.phaseAt(run.PhaseEvaluate)
		if window := cool - drive; window != 10*time.Second {
			t.Errorf("window lasted %v, want the plan's 10s", window)
		}
		if settle != cool {
			t.Errorf("cooldown lasted %v, want none: no workload and no fault", settle-cool)
		}
		if eval != settle {
			t.Errorf("settle lasted %v, want one feed poll and no pause", eval-settle)
		}
	})
}

// TestOnFailureSeesTheClusterBeforeTeardown: a failed run hands the live
// cluster to OnFailure before teardown; a passing run does not call it.
func TestOnFailureSeesTheClusterBeforeTeardown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Expectations = []plan.Expectation{
			{ID: "e1", Kind: plan.ExpectMetric, Name: "tip high", Metric: &plan.MetricParams{Query: "cryptarchia_tip_height", Op: ">", Value: 1000}},
		}
		o := opts(t, &recorder{})
		var calls, teardownsSeen int
		var seen error
		o.OnFailure = func(_ context.Context, c runners.Cluster, err error) {
			calls++
			seen = err
			teardownsSeen = c.(*fake.Cluster).Teardowns()
		}
		_, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), o)
		if run.KindOf(err) != run.KindExpectations || calls != 1 || seen != err {
			t.Fatalf("OnFailure called %d times with %v; run error %v", calls, seen, err)
		}
		if teardownsSeen != 0 {
			t.Errorf("OnFailure ran after %d teardowns, want before any", teardownsSeen)
		}

		calls = 0
		if _, err := run.Execute(context.Background(), testPlan(), fake.New(fake.Options{}), o); err != nil || calls != 0 {
			t.Errorf("passing run: err %v, OnFailure called %d times", err, calls)
		}
	})
}

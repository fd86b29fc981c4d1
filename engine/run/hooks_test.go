package run_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners/fake"
)

// goHooks is a hooks.Caller of Go functions by hook id, standing in for the
// interpreter.
type goHooks map[string]func(ctx context.Context, rc hooks.Context, b *hooks.Block) error

func (g goHooks) Call(ctx context.Context, h plan.Hook, rc hooks.Context, b *hooks.Block) error {
	return g[h.ID](ctx, rc, b)
}

// hashingCodec names a transaction by its output's owner.
type hashingCodec struct{ codec }

func (hashingCodec) TxHash(tx nodeapi.Tx) (string, error) {
	return "tx-" + tx.MantleTx.LedgerTx.Outputs[0].PK, nil
}

func wallAt(d time.Duration) plan.Span { return plan.Span{Wall: plan.Duration(d)} }

func TestHooksReadActAndRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Workloads = nil
		p.Expectations = append(p.Expectations[:1], plan.Expectation{ID: "e2", Kind: plan.ExpectCustom, Name: "history",
			Custom: &plan.CustomParams{Func: "seen"}}, plan.Expectation{ID: "e3", Kind: plan.ExpectTxInclusion, Name: "tx inclusion",
			Inclusion: &plan.InclusionParams{MinRatio: 1}})
		p.Hooks = []plan.Hook{
			{ID: "h1", Kind: plan.HookOnBlock, Func: "watch"},
			{ID: "h2", Kind: plan.HookAt, Func: "cut", At: wallAt(3 * time.Second), Uses: []plan.Capability{plan.CapPartition}},
			{ID: "h3", Kind: plan.HookAt, Func: "mend", At: wallAt(6 * time.Second)},
			{ID: "h4", Kind: plan.HookAt, Func: "pay", At: wallAt(time.Second)},
		}
		var cut string
		var heights []uint64
		var paid []string
		var payErr error
		r := fake.New(fake.Options{})
		calls := goHooks{
			"h1": func(_ context.Context, rc hooks.Context, b *hooks.Block) error {
				heights = append(heights, b.Height)
				rc.Record(p.Hooks[0], "height", float64(b.Height))
				return nil
			},
			"h2": func(ctx context.Context, rc hooks.Context, _ *hooks.Block) error {
				// The interpreter resolves a hook's fault before it starts.
				f, err := p.ResolveFault(plan.Fault{Kind: plan.FaultPartition,
					Partition: &plan.PartitionParams{GroupSpecs: []plan.Selector{plan.SelectNames("validator-0")}}})
				if err != nil {
					return err
				}
				cut, err = rc.StartFault(ctx, p.Hooks[1], f)
				return err
			},
			"h3": func(ctx context.Context, rc hooks.Context, _ *hooks.Block) error {
				if blocked := r.Last().Node("validator-0").Blocked(); len(blocked) != 2 {
					return fmt.Errorf("before the heal validator-0 blocks %v, want both peers", blocked)
				}
				return rc.Heal(ctx, cut)
			},
			"h4": func(ctx context.Context, rc hooks.Context, _ *hooks.Block) error {
				hash, err := rc.Transfer(ctx, p.Hooks[3], 5)
				paid = append(paid, hash)
				_, payErr = rc.Transfer(ctx, p.Hooks[3], 5)
				return err
			},
		}
		o := opts(t, &recorder{})
		o.Hooks, o.Codec = calls, hashingCodec{}
		var history map[string]any
		o.Custom = func(_ context.Context, _ string, snap map[string]any) (bool, string, error) {
			history, _ = snap["history"].(map[string]any)
			return true, "", nil
		}
		res, err := run.Execute(context.Background(), p, r, o)
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		if cut != "h2.f1" {
			t.Errorf("the hook's fault is %q, want h2.f1", cut)
		}
		var window *report.FaultWindow
		for i, f := range res.Faults {
			if f.ID == cut {
				window = &res.Faults[i]
			}
		}
		if window == nil || window.Kind != plan.FaultPartition || window.End.Std()-window.Start.Std() != 3*time.Second {
			t.Errorf("fault windows %+v, want h2.f1 partition lasting 3s (3s..6s of the drive)", res.Faults)
		}
		if b := r.Last().Node("validator-0").Blocked(); len(b) != 0 {
			t.Errorf("validator-0 still blocks %v after the heal", b)
		}
		for i := 1; i < len(heights); i++ {
			if heights[i] != heights[i-1]+1 {
				t.Fatalf("on_block heights %v: want each block once, in order", heights)
			}
		}
		if len(heights) < 9 || len(res.Series) != 1 || len(res.Series[0].Points) != len(heights) {
			t.Errorf("on_block saw %d blocks and recorded %+v; want about 10, each recorded", len(heights), res.Series)
		}
		if len(paid) != 1 || paid[0] != "tx-wallet-5" || payErr == nil || !strings.Contains(payErr.Error(), "spent by hook h4") {
			t.Errorf("transfers %v, second: %v; want tx-wallet-5, then a refusal to spend wallet 5 again", paid, payErr)
		}
		// The paying hook is a workload in the report, and tx inclusion
		// judged its transfer.
		var hookLoad *report.WorkloadResult
		for i, w := range res.Workloads {
			if w.ID == "h4" {
				hookLoad = &res.Workloads[i]
			}
		}
		if hookLoad == nil || hookLoad.Kind != plan.WorkloadHook || hookLoad.Counts["submitted"] != 1 {
			t.Errorf("workloads %+v, want h4 (hook) with 1 submitted", res.Workloads)
		}
		if e := res.Expectations[len(res.Expectations)-1]; e.Kind != plan.ExpectTxInclusion || !e.Passed ||
			!strings.Contains(e.Summary, "1 of 1 planned transactions included") {
			t.Errorf("tx inclusion of the hook's transfer: %+v", e)
		}
		// Custom expectations see the whole history, hooks' series included.
		series, _ := history["series"].(map[string]any)
		chain, _ := history["chain"].([]any)
		heightsOf, _ := history["heights"].(map[string]any)
		timeline, _ := history["timeline"].([]any)
		if pts, _ := series["height"].([]any); len(pts) != len(heights) || len(chain) < len(heights) ||
			len(heightsOf["validator-0"].([]any)) < 10 || len(timeline) < 4 {
			t.Errorf("history for custom expectations: %d series points, %d chain blocks, %d timeline events, keys %v",
				len(pts), len(chain), len(timeline), keys(history))
		}
		st := map[string]int{}
		for _, h := range res.Hooks.Hooks {
			st[h.ID] = h.Calls
		}
		if st["h1"] != len(heights) || st["h2"] != 1 || st["h3"] != 1 || st["h4"] != 1 {
			t.Errorf("hook calls %v", st)
		}
	})
}

func TestFailingHookIsAScriptErrorAndTearsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Hooks = []plan.Hook{{ID: "h1", Kind: plan.HookEvery, Func: "check", Every: wallAt(2 * time.Second),
			Pos: plan.Pos{File: "s.star", Line: 7, Col: 1}}}
		n := 0
		calls := goHooks{"h1": func(context.Context, hooks.Context, *hooks.Block) error {
			if n++; n == 2 {
				return errors.New("s.star:9:5: the fork is too deep")
			}
			return nil
		}}
		r := fake.New(fake.Options{})
		rec := &recorder{}
		o := opts(t, rec)
		o.Hooks = calls
		res, err := run.Execute(context.Background(), p, r, o)
		if run.KindOf(err) != run.KindScript || !strings.Contains(err.Error(), "drive: s.star:9:5: the fork is too deep") {
			t.Fatalf("Execute = %v, want a script error naming the hook and the failing line", err)
		}
		if r.Last().Teardowns() != 1 || res.Outcome != report.OutcomeError {
			t.Errorf("teardowns %d, outcome %s; want the cluster torn down and the run failed", r.Last().Teardowns(), res.Outcome)
		}
		if at := rec.phaseAt(run.PhaseEvaluate); at >= 0 {
			t.Errorf("expectations were evaluated at %v after the hook failed", at)
		}
	})
}

func TestHooksNeedAnInterpreter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Hooks = []plan.Hook{{ID: "h1", Kind: plan.HookOnBlock, Func: "watch"}}
		_, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), opts(t, &recorder{}))
		if run.KindOf(err) != run.KindInvalid || !strings.Contains(err.Error(), "no interpreter") {
			t.Fatalf("Execute = %v, want an invalid-plan error", err)
		}
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// An action the run fails to carry out is the run's failure, not the
// script's, however the interpreter wraps the error.
func TestFailedHookActionIsAnInfrastructureError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := testPlan()
		p.Hooks = []plan.Hook{{ID: "h1", Kind: plan.HookAt, Func: "pay", At: wallAt(time.Second)}}
		calls := goHooks{"h1": func(ctx context.Context, rc hooks.Context, _ *hooks.Block) error {
			_, err := rc.Transfer(ctx, p.Hooks[0], 1)
			return fmt.Errorf("s.star:3:5: transfer: %w", err)
		}}
		o := opts(t, &recorder{})
		o.Hooks = calls // the plain codec cannot name transactions
		_, err := run.Execute(context.Background(), p, fake.New(fake.Options{}), o)
		if run.KindOf(err) != run.KindInfrastructure || !strings.Contains(err.Error(), "cannot name transactions") {
			t.Fatalf("Execute = %v (kind %v), want an infrastructure error", err, run.KindOf(err))
		}
	})
}

package starlib

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// fakeRun is a hooks.Context over a fixed cluster of two validators whose
// chain is 5 blocks high; the actions hooks take are kept in order.
type fakeRun struct {
	actions []string
	faults  int
	txs     int
	// broken, when set, is the error of every action the engine does.
	broken error
}

var _ hooks.Context = (*fakeRun)(nil)

func fakeChain() []hooks.Block {
	var out []hooks.Block
	for h := uint64(0); h <= 5; h++ {
		b := hooks.Block{ID: fmt.Sprintf("b%d", h), Height: h, Slot: 2 * h}
		if h > 0 {
			b.Parent = fmt.Sprintf("b%d", h-1)
			b.Txs = []string{fmt.Sprintf("tx%d", h)}
		}
		out = append(out, b)
	}
	return out
}

func (f *fakeRun) Elapsed() time.Duration { return 12500 * time.Millisecond }
func (f *fakeRun) Slot() uint64           { return 11 }
func (f *fakeRun) Height() uint64         { return 5 }
func (f *fakeRun) Nodes() []hooks.NodeState {
	return []hooks.NodeState{
		{Name: "validator-0", Role: plan.RoleValidator, Height: 5, Slot: 10, Tip: "b5", LIB: "b2", Mode: "Online"},
		{Name: "validator-1", Role: plan.RoleValidator, Height: 4, Slot: 8, Tip: "b4", LIB: "b2", Mode: "Online", Err: "timeout"},
	}
}
func (f *fakeRun) Peers(ctx context.Context, node string) (int, error) { return 1, f.broken }
func (f *fakeRun) Block(id string) (hooks.Block, bool) {
	for _, b := range fakeChain() {
		if b.ID == id {
			return b, true
		}
	}
	return hooks.Block{}, false
}
func (f *fakeRun) Chain(from, to uint64) []hooks.Block {
	var out []hooks.Block
	for _, b := range fakeChain() {
		if b.Height >= from && b.Height <= to {
			out = append(out, b)
		}
	}
	return out
}
func (f *fakeRun) Timeline() []hooks.Event {
	return []hooks.Event{
		{At: 3 * time.Second, Kind: "kill", Fault: "f1", Phase: "start", Nodes: []string{"validator-1"}},
		{At: 4 * time.Second, Kind: "restart", Nodes: []string{"validator-1"}},
	}
}
func (f *fakeRun) Workloads() map[string]map[string]int {
	return map[string]map[string]int{"transactions": {"submitted": 10, "included": 8}}
}
func (f *fakeRun) Transfer(ctx context.Context, h plan.Hook, wallet int) (string, error) {
	f.txs++
	f.actions = append(f.actions, fmt.Sprintf("%s transfer %d", h.ID, wallet))
	return fmt.Sprintf("tx-%d", f.txs), f.broken
}
func (f *fakeRun) StartFault(ctx context.Context, h plan.Hook, flt plan.Fault) (string, error) {
	f.faults++
	f.actions = append(f.actions, fmt.Sprintf("%s %s %v %v %s line %d", h.ID, flt.Kind, flt.Targets.Nodes, flt.PartitionGroups(),
		flt.Duration, flt.Pos.Line))
	return fmt.Sprintf("hf%d", f.faults), f.broken
}
func (f *fakeRun) Heal(ctx context.Context, id string) error { return f.act("heal " + id) }
func (f *fakeRun) StopNode(ctx context.Context, n string) error {
	return f.act("stop " + n)
}
func (f *fakeRun) StartNode(ctx context.Context, n string) error { return f.act("start " + n) }
func (f *fakeRun) Restart(ctx context.Context, n string) error   { return f.act("restart " + n) }
func (f *fakeRun) Record(h plan.Hook, name string, v float64) {
	f.actions = append(f.actions, fmt.Sprintf("record %s %g", name, v))
}
func (f *fakeRun) Log(h plan.Hook, msg string) { f.actions = append(f.actions, "log "+msg) }

func (f *fakeRun) act(s string) error {
	f.actions = append(f.actions, s)
	return f.broken
}

// actionsBuiltin is fake_actions(): the actions so far, for .star tests.
func (f *fakeRun) actionsBuiltin() *starlark.Builtin {
	return starlark.NewBuiltin("fake_actions", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return stringsValue(f.actions), nil
	})
}

// callHooks calls the plan's hooks named by ids in order, as the engine
// would: an on_block hook gets the next block of the fake chain. It stops
// at the first error, as a run does.
func callHooks(ctx context.Context, res *Result, fake *fakeRun, ids []string) error {
	byID := map[string]plan.Hook{}
	for _, h := range res.Plan.Hooks {
		byID[h.ID] = h
	}
	chain, next := fakeChain(), 1
	for _, id := range ids {
		h, ok := byID[id]
		if !ok {
			return fmt.Errorf("no hook %s", id)
		}
		var b *hooks.Block
		if h.Kind == plan.HookOnBlock {
			b = &chain[next%len(chain)]
			next++
		}
		if err := res.Hooks.Call(ctx, h, fake, b); err != nil {
			return err
		}
	}
	return nil
}

func interpretHooks(t *testing.T, src string, seed int64, steps uint64) *Result {
	t.Helper()
	res, err := InterpretSource(context.Background(), "h.star", []byte(src),
		Options{Seed: seed, HookSteps: steps, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestHookRandFollowsSeed(t *testing.T) {
	const src = "def draw(ctx):\n    ctx.log(ctx.rand.int(1000), ctx.rand.float(), ctx.rand.choice(['a', 'b', 'c']))\n" +
		"every('1s', draw)\nat('2s', draw)\n"
	draws := func(seed int64) string {
		fake := &fakeRun{}
		if err := callHooks(context.Background(), interpretHooks(t, src, seed, 0), fake, []string{"h1", "h2", "h1"}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(fake.actions, "\n")
	}
	a, b, c := draws(7), draws(7), draws(8)
	if a != b {
		t.Errorf("same seed, different draws:\n%s\n---\n%s", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 draw the same:\n%s", a)
	}
}

func TestHookCancelledMidCall(t *testing.T) {
	res := interpretHooks(t, "def spin(ctx):\n    for i in range(1000000000):\n        pass\nevery('1s', spin)\n", 1, 1<<40)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := callHooks(ctx, res, &fakeRun{}, []string{"h1"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %s", d)
	}
	// A later call with a live context runs: the thread is not left cancelled.
	res2 := interpretHooks(t, "def quick(ctx):\n    ctx.log('ran')\nevery('1s', quick)\n", 1, 0)
	fake := &fakeRun{}
	c2, cancel2 := context.WithCancel(context.Background())
	if err := callHooks(c2, res2, fake, []string{"h1"}); err != nil {
		t.Fatal(err)
	}
	cancel2()
	if err := callHooks(context.Background(), res2, fake, []string{"h1"}); err != nil || len(fake.actions) != 2 {
		t.Errorf("after a cancelled context: err %v, actions %v", err, fake.actions)
	}
}

func TestHookErrorsAreScriptErrors(t *testing.T) {
	res := interpretHooks(t, "def inner(ctx):\n    ctx.fail('too deep')\n\ndef adapt(ctx, block):\n    inner(ctx)\n\non_block(adapt)\n", 1, 0)
	err := callHooks(context.Background(), res, &fakeRun{}, []string{"h1"})
	var se *ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want a *ScriptError", err, err)
	}
	if se.Error() != "h.star:2:13: hook h1 (on_block adapt): fail: too deep" {
		t.Errorf("error = %q", se.Error())
	}
	for _, frame := range []string{"h.star:5:10: in adapt", "h.star:2:13: in inner"} {
		if !strings.Contains(se.Backtrace, frame) {
			t.Errorf("backtrace lacks %q:\n%s", frame, se.Backtrace)
		}
	}
}

func TestHookEngineErrorsPassThrough(t *testing.T) {
	res := interpretHooks(t, "topology(validators=2)\ndef cut(ctx):\n    ctx.isolate('validator-1')\nat('1s', cut, uses=['isolate'])\n", 1, 0)
	broken := errors.New("the runner cannot reach the network namespace")
	err := callHooks(context.Background(), res, &fakeRun{broken: broken}, []string{"h1"})
	var se *ScriptError
	if !errors.Is(err, broken) || errors.As(err, &se) {
		t.Fatalf("err = %T %v, want the engine's error, not a script error", err, err)
	}
	if !strings.HasPrefix(err.Error(), "h.star:3:16: hook h1 (at cut): ctx.isolate: ") {
		t.Errorf("error = %q", err)
	}
}

func TestHookCallsRoundTrip(t *testing.T) {
	const defs = "def tick(ctx):\n    pass\ndef adapt(ctx, block):\n    pass\n"
	res := interpretHooks(t, defs+"every(blocks(2), tick)\nat(0, tick, uses=['kill'])\nat(slots(3), tick)\n"+
		"on_block(adapt, uses=['restart', 'partition'])\nexpect_consensus_agreement()\n", 1, 0)
	src := res.Plan.Starlark()
	again := interpretHooks(t, defs+src, 1, 0)
	if got := again.Plan.Starlark(); got != src {
		t.Errorf("round trip changed the plan:\n%s\n---\n%s", src, got)
	}
	if len(again.Plan.Hooks) != 4 || again.Plan.Hooks[3].Uses[0] != plan.CapPartition {
		t.Errorf("hooks = %+v", again.Plan.Hooks)
	}
}

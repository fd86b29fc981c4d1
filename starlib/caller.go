package starlib

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// DefaultHookSteps bounds one hook call, like a custom expectation: enough
// for any per-block bookkeeping, small enough that a runaway loop stops in
// about a second.
const DefaultHookSteps = callSteps

// hookRandStream separates the hooks' random draws from the other uses of
// the plan's seed.
const hookRandStream = 0x686f6f6b73 // "hooks"

// hookRun implements hooks.Caller: it calls the script's hook functions one
// at a time on one Starlark thread for the whole run, so ctx.state and
// ctx.rand see every call in order.
type hookRun struct {
	mu     sync.Mutex
	plan   *plan.Plan
	funcs  map[string]*starlark.Function // by hook id
	steps  uint64
	setup  func(*starlark.Thread)
	thread *starlark.Thread
	state  *starlark.Dict
	rand   *randValue
	// faults are the ids of the faults hooks started, which ctx.heal takes.
	faults map[string]bool
	// current is the ctx of the call in progress, for print().
	current *runCtx
}

var _ hooks.Caller = (*hookRun)(nil)

func newHookRun(p *plan.Plan, funcs map[string]*starlark.Function, steps uint64, setup func(*starlark.Thread)) *hookRun {
	if steps == 0 {
		steps = DefaultHookSteps
	}
	return &hookRun{plan: p, funcs: funcs, steps: steps, setup: setup, state: starlark.NewDict(0),
		rand:   &randValue{r: rand.New(rand.NewPCG(uint64(p.Seed), hookRandStream))},
		faults: map[string]bool{}}
}

// Call implements hooks.Caller. A broken or failing hook (a Starlark error,
// fail() or ctx.fail(), the step limit) returns a *ScriptError at the
// position in the script, with the backtrace; an error of the engine behind
// an action is returned wrapped; cancellation of ctx stops the hook
// promptly and returns an error wrapping ctx.Err().
func (r *hookRun) Call(ctx context.Context, h plan.Hook, rc hooks.Context, b *hooks.Block) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.funcs[h.ID]
	i := slices.IndexFunc(r.plan.Hooks, func(p plan.Hook) bool { return p.ID == h.ID })
	if !ok || i < 0 {
		return fmt.Errorf("hook %s: the script registered no hook with this id", h.Describe())
	}
	// The plan's own copy decides what the hook may do, whatever the
	// caller passed.
	h = r.plan.Hooks[i]
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("hook %s interrupted: %w", h.Describe(), err)
	}
	c := &runCtx{ctx: ctx, rc: rc, hook: h, run: r}
	defer func() { c.done, r.current = true, nil }()
	args := starlark.Tuple{c}
	if h.Kind == plan.HookOnBlock {
		if b == nil {
			return fmt.Errorf("hook %s: an on_block hook needs its block", h.Describe())
		}
		args = append(args, blockValue(*b))
	}
	th := r.threadFor(c)
	limit := th.ExecutionSteps() + r.steps
	th.SetMaxExecutionSteps(limit)
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		th.Cancel(ctx.Err().Error())
		close(cancelled)
	})
	_, err := starlark.Call(th, f, args, nil)
	if !stop() {
		<-cancelled // the next call must not see this call's cancellation
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("hook %s interrupted: %w", h.Describe(), ctx.Err())
	}
	se := &ScriptError{}
	if !errors.As(scriptErr(err), &se) {
		return fmt.Errorf("hook %s: %w", h.Describe(), err)
	}
	if c.failed != nil {
		return fmt.Errorf("%s: hook %s: %w", se.Pos, h.Describe(), c.failed)
	}
	if th.ExecutionSteps() >= limit {
		se.Msg = fmt.Sprintf("the call took more than %d steps; a hook must return quickly, so bound its loops "+
			"(ctx.chain(from_height=...) reads only the blocks it needs)", r.steps)
	}
	se.Msg = "hook " + h.Describe() + ": " + se.Msg
	return se
}

// threadFor returns the run's thread, made at the first call, with c as
// the ctx print() writes to.
func (r *hookRun) threadFor(c *runCtx) *starlark.Thread {
	r.current = c
	if r.thread == nil {
		r.thread = &starlark.Thread{Name: "hooks", Print: func(_ *starlark.Thread, msg string) {
			if r.current != nil {
				r.current.rc.Log(r.current.hook, msg)
			}
		}}
		if r.setup != nil {
			r.setup(r.thread)
		}
	}
	r.thread.Uncancel()
	return r.thread
}

// randValue is ctx.rand: a PCG source seeded from the plan's seed.
type randValue struct{ r *rand.Rand }

var _ starlark.HasAttrs = (*randValue)(nil)

func (v *randValue) String() string        { return "<rand>" }
func (v *randValue) Type() string          { return "rand" }
func (v *randValue) Freeze()               {}
func (v *randValue) Truth() starlark.Bool  { return starlark.True }
func (v *randValue) Hash() (uint32, error) { return 0, errors.New("unhashable type: rand") }

// AttrNames implements starlark.HasAttrs.
func (v *randValue) AttrNames() []string { return []string{"choice", "float", "int"} }

// Attr implements starlark.HasAttrs.
func (v *randValue) Attr(name string) (starlark.Value, error) {
	var fn builtinFunc
	switch name {
	case "int":
		fn = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var n int
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n); err != nil {
				return nil, err
			}
			if n < 1 {
				return nil, argError(b, "n must be positive, got %d", n)
			}
			return starlark.MakeInt(v.r.IntN(n)), nil
		}
	case "float":
		fn = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return starlark.Float(v.r.Float64()), nil
		}
	case "choice":
		fn = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var seq starlark.Indexable
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seq", &seq); err != nil {
				return nil, err
			}
			if seq.Len() == 0 {
				return nil, argError(b, "seq is empty")
			}
			return seq.Index(v.r.IntN(seq.Len())), nil
		}
	default:
		return nil, nil
	}
	return starlark.NewBuiltin(name, fn), nil
}

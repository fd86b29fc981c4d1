package starlib

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

const usesDoc = " uses lists the runner capabilities the function's actions may need (\"kill\" for ctx.kill, ctx.stop " +
	"and ctx.start; \"restart\", \"pause\", \"partition\", \"isolate\", \"latency\", \"clock_skew\" for the action of that " +
	"name): a runner that lacks one is rejected when the plan is validated, and an action not declared fails when called."

var hookBuiltins = []entry{
	{"every", `every(interval, fn, uses=[])`,
		"Calls fn(ctx) every interval during the drive phase, first at interval after its start; interval is wall time " +
			"(\"5s\", seconds), blocks(n) or slots(n). See the run context (ctx) below." + usesDoc,
		ClassStep, hookBuiltin},
	{"at", `at(when, fn, uses=[])`,
		"Calls fn(ctx) once, when (wall time, blocks(n) or slots(n)) after the drive phase starts." + usesDoc,
		ClassStep, hookBuiltin},
	{"on_block", `on_block(fn, uses=[])`,
		"Calls fn(ctx, block) for each new block of the canonical chain, once and in height order; block has id, parent, " +
			"height, slot and txs. A block later orphaned by a reorg is not delivered again, and the blocks that replace " +
			"it are delivered only above the height already delivered." + usesDoc,
		ClassStep, hookBuiltin},
}

// hookBuiltin records every, at and on_block.
func hookBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	h := plan.Hook{Kind: plan.HookKind(b.Name()), Pos: callerPos(thread)}
	var when spanArg
	var fn starlark.Callable
	var uses usesArg
	switch h.Kind {
	case plan.HookEvery:
		err = starlark.UnpackArgs(b.Name(), args, kwargs, "interval", &when, "fn", &fn, "uses?", &uses)
		if err == nil && when.span.IsZero() {
			err = argError(b, "interval must be positive; give wall time (\"5s\"), blocks(n) or slots(n)")
		}
		h.Every = when.span
	case plan.HookAt:
		err = starlark.UnpackArgs(b.Name(), args, kwargs, "when", &when, "fn", &fn, "uses?", &uses)
		h.At = when.span
	default:
		err = starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "uses?", &uses)
	}
	if err != nil {
		return nil, err
	}
	f, err := hookFunc(b, fn, h.Kind)
	if err != nil {
		return nil, err
	}
	h.Func, h.Uses = f.Name(), uses.caps
	id, err := s.builder.AddHook(h)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	s.hooks[id] = f
	return starlark.String(id), nil
}

// hookFunc checks that fn is a script function the engine can call with
// the arguments of kind: fn(ctx), or fn(ctx, block) for on_block.
func hookFunc(b *starlark.Builtin, fn starlark.Callable, kind plan.HookKind) (*starlark.Function, error) {
	want, call := 1, "fn(ctx)"
	if kind == plan.HookOnBlock {
		want, call = 2, "fn(ctx, block)"
	}
	f, ok := fn.(*starlark.Function)
	if !ok {
		return nil, argError(b, "fn must be a function defined in the scenario, got %s", fn.Type())
	}
	positional := f.NumParams() - f.NumKwonlyParams()
	if f.HasVarargs() {
		positional--
	}
	if f.HasKwargs() {
		positional--
	}
	requiredPos, requiredKw := 0, 0
	for i := 0; i < positional+f.NumKwonlyParams(); i++ {
		if f.ParamDefault(i) != nil {
			continue
		}
		if i < positional {
			requiredPos++
		} else {
			requiredKw++
		}
	}
	if requiredKw > 0 || requiredPos > want || (positional < want && !f.HasVarargs()) {
		return nil, argError(b, "fn %s defined at %s must take %d parameters without keyword-only ones: %s calls it as %s",
			f.Name(), f.Position(), want, b.Name(), call)
	}
	return f, nil
}

// usesArg unpacks uses=: a list of hook capability names, kept sorted and
// without repeats.
type usesArg struct{ caps []plan.Capability }

var _ starlark.Unpacker = (*usesArg)(nil)

// Unpack implements starlark.Unpacker.
func (u *usesArg) Unpack(v starlark.Value) error {
	l, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return fmt.Errorf("got %s, want a list of capabilities, e.g. [\"partition\"]", v.Type())
	}
	for i := 0; i < l.Len(); i++ {
		s, ok := starlark.AsString(l.Index(i))
		if !ok {
			return fmt.Errorf("element %d is %s, want a capability name", i, l.Index(i).Type())
		}
		c := plan.Capability(s)
		if _, ok := plan.HookActions[c]; !ok {
			return fmt.Errorf("unknown capability %q; want some of %s", s, capNames(plan.HookCapabilities()))
		}
		if !slices.Contains(u.caps, c) {
			u.caps = append(u.caps, c)
		}
	}
	slices.Sort(u.caps)
	return nil
}

func capNames(caps []plan.Capability) string {
	quoted := make([]string, len(caps))
	for i, c := range caps {
		quoted[i] = fmt.Sprintf("%q", c)
	}
	return strings.Join(quoted, ", ")
}

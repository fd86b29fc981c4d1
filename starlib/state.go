package starlib

import (
	"errors"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Thread-local keys. Unexported so only this package reaches the state.
const (
	keyState = "nomosrun.state"
)

// state is what builtins see of the interpretation in progress. Mutable plan
// state lives in Go (the builder), never in Starlark globals, because loaded
// modules are frozen.
type state struct {
	builder *plan.Builder
	params  *params
	customs *customs
	hooks   map[string]*starlark.Function // by hook id
	shape   Shape
	optedIn OptedIn
}

var errNoState = errors.New("only callable while a scenario is interpreted, not from a hook or a custom expectation " +
	"(a hook acts through its ctx: ctx.kill, ctx.partition, ...)")

// stateFrom returns the interpretation state of thread, or an error (never a
// panic) when the builtin runs outside interpretation, e.g. from a custom
// expectation evaluated after the run.
func stateFrom(thread *starlark.Thread) (*state, error) {
	s, ok := thread.Local(keyState).(*state)
	if !ok || s == nil {
		return nil, errNoState
	}
	return s, nil
}

// callerPos is the script position of the call to the running builtin:
// frame 0 is the builtin itself, frame 1 its Starlark call site.
func callerPos(thread *starlark.Thread) plan.Pos {
	if thread.CallStackDepth() < 2 {
		return plan.Pos{}
	}
	p := thread.CallFrame(1).Pos
	return plan.Pos{File: p.Filename(), Line: p.Line, Col: p.Col}
}

package starlib

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// ScriptError is an error of the interpretation phase: the script does not
// parse, refers to an undefined name, or fails while it runs (a builtin
// rejected an argument, fail() was called, the step limit was reached).
type ScriptError struct {
	Pos plan.Pos
	Msg string
	// Backtrace is the Starlark call stack, for -v; empty for syntax errors.
	Backtrace string
}

// Error formats the error as file:line:col: message.
func (e *ScriptError) Error() string {
	if e.Pos.IsZero() {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// UsageError is a problem with how the scenario was invoked rather than with
// the script itself, such as a --set for an undeclared param.
type UsageError struct{ Msg string }

// Error returns the message.
func (e *UsageError) Error() string { return e.Msg }

// scriptErr converts the errors of go.starlark.net into ScriptErrors; a list
// of resolve errors becomes an errors.Join of them.
func scriptErr(err error) error {
	var se *ScriptError
	if errors.As(err, &se) {
		return err
	}
	var rl resolve.ErrorList
	if errors.As(err, &rl) {
		errs := make([]error, len(rl))
		for i, e := range rl {
			errs[i] = &ScriptError{Pos: toPos(e.Pos), Msg: e.Msg}
		}
		return errors.Join(errs...)
	}
	var sy syntax.Error
	if errors.As(err, &sy) {
		return &ScriptError{Pos: toPos(sy.Pos), Msg: sy.Msg}
	}
	if ee := deepestEvalError(err); ee != nil {
		out := &ScriptError{Msg: ee.Msg, Backtrace: backtrace(ee)}
		for i := 0; i < len(ee.CallStack); i++ {
			if fr := ee.CallStack.At(i); fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
				out.Pos = toPos(fr.Pos)
				break
			}
		}
		// A failed load() nests the loaded module's error: report where it
		// happened, not the load statement.
		return out
	}
	return &ScriptError{Msg: err.Error()}
}

// backtrace is ee's Starlark backtrace. A builtin's error message starts
// with the builtin's name (as starlark.UnpackArgs and argError write it, so
// the one-line message says which builtin failed), and the backtrace names
// the builtin too: "Error in kill: kill: ..." is cut to "Error in kill: ...".
func backtrace(ee *starlark.EvalError) string {
	bt := ee.Backtrace()
	if n := len(ee.CallStack); n > 0 {
		if top := ee.CallStack[n-1]; top.Pos.Filename() == "<builtin>" {
			in := "Error in " + top.Name + ": "
			bt = strings.Replace(bt, in+top.Name+": ", in, 1)
		}
	}
	return bt
}

// deepestEvalError follows the chain of wrapped errors to the innermost
// *starlark.EvalError, which survives load() and carries the real position.
func deepestEvalError(err error) *starlark.EvalError {
	var found *starlark.EvalError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ee, ok := e.(*starlark.EvalError); ok {
			found = ee
		}
	}
	return found
}

func toPos(p syntax.Position) plan.Pos {
	if !p.IsValid() {
		return plan.Pos{}
	}
	return plan.Pos{File: p.Filename(), Line: p.Line, Col: p.Col}
}

// unknownParams reports --set names that no param() declared.
func unknownParams(p *params) error {
	var unknown []string
	for name := range p.set {
		if _, ok := p.declared[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	declared := make([]string, 0, len(p.declared))
	for name := range p.declared {
		declared = append(declared, name)
	}
	sort.Strings(declared)
	have := "the scenario declares no params"
	if len(declared) > 0 {
		have = "declared params: " + strings.Join(declared, ", ")
	}
	return &UsageError{Msg: fmt.Sprintf("--set %s: no such param (%s)", strings.Join(unknown, ", "), have)}
}

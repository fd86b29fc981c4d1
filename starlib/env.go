package starlib

import (
	"fmt"
	"sort"
	"sync"

	"go.starlark.net/starlark"
)

// Class says what a builtin does to the plan.
type Class string

// The builtin classes.
const (
	// ClassStep builtins append to the plan (topology, kill, expect_liveness).
	ClassStep Class = "plan step"
	// ClassValue builtins only return a value (blocks, slots, param).
	ClassValue Class = "value"
	// ClassContext members belong to the ctx a hook receives, not to the
	// scenario's globals.
	ClassContext Class = "run context"
)

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// entry is one row of a family's registration table.
type entry struct {
	name  string
	sig   string // Starlark signature, e.g. "topology(validators=1, ...)"
	doc   string // one paragraph for the reference
	class Class
	fn    builtinFunc
}

// BuiltinDoc describes one builtin for the generated reference.
type BuiltinDoc struct {
	Family    string
	Name      string
	Signature string
	Class     Class
	Doc       string
}

// families lists the registration tables, one per file, in reference order.
var families = []struct {
	name    string
	entries []entry
}{
	{"scenario", scenarioBuiltins},
	{"workloads", workloadBuiltins},
	{"faults", faultBuiltins},
	{"expectations", expectBuiltins},
	{"hooks", hookBuiltins},
	{"matrix", matrixBuiltins},
}

var universe = sync.OnceValues(func() (starlark.StringDict, error) {
	env := starlark.StringDict{}
	for _, f := range families {
		for _, e := range f.entries {
			if _, dup := env[e.name]; dup {
				return nil, fmt.Errorf("builtin %s registered twice", e.name)
			}
			env[e.name] = starlark.NewBuiltin(e.name, e.fn)
		}
	}
	return env, nil
})

// Predeclared returns the scenario builtins as Starlark globals. It is an
// error (a programming mistake caught by tests) if two families register the
// same name.
func Predeclared() (starlark.StringDict, error) { return universe() }

// Builtins returns the reference of every builtin, family by family, sorted
// by name within a family.
func Builtins() []BuiltinDoc {
	var out []BuiltinDoc
	for _, f := range families {
		start := len(out)
		for _, e := range f.entries {
			out = append(out, BuiltinDoc{Family: f.name, Name: e.name, Signature: e.sig, Class: e.class, Doc: e.doc})
		}
		sort.Slice(out[start:], func(i, j int) bool { return out[start+i].Name < out[start+j].Name })
	}
	// The run context's members follow, in their table's order: reads,
	// actions, records.
	for _, m := range ctxTable() {
		out = append(out, BuiltinDoc{Family: "run context (ctx)", Name: "ctx." + m.name, Signature: m.sig, Class: ClassContext, Doc: m.doc})
	}
	return out
}

// argError formats an argument error the way starlark.UnpackArgs does:
// prefixed with the builtin's name, so the one-line error says which builtin
// failed (backtrace drops the repeat from the -v backtrace).
func argError(b *starlark.Builtin, format string, args ...any) error {
	return fmt.Errorf("%s: %s", b.Name(), fmt.Sprintf(format, args...))
}

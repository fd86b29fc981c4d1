package starlib

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

var matrixBuiltins = []entry{
	{"matrix", `matrix(**axes)`,
		"Declares the values `nomosrun matrix` runs this scenario with: one keyword per param, each a non-empty list of " +
			"strings, ints, floats or bools, e.g. matrix(validators=[2, 3], tx_rate=[1, 5]). Every name must be declared by param(), except seed, which sets each job's --seed. " +
			"A plain run ignores it; --matrix flags replace an axis or add one. Once per scenario.",
		ClassStep, matrixBuiltin},
}

func matrixBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	if len(args) > 0 {
		return nil, argError(b, "takes keyword arguments only, e.g. matrix(validators=[2, 3])")
	}
	if len(kwargs) == 0 {
		return nil, argError(b, "give at least one axis, e.g. matrix(validators=[2, 3])")
	}
	if s.builder.Matrix() != nil {
		return nil, argError(b, "matrix already declared; declare every axis in one call")
	}
	pos := callerPos(thread)
	// Axes are variadic keywords, so they are read from kwargs directly, in
	// the order written: that order is the order of the job ids.
	axes := make([]plan.MatrixAxis, 0, len(kwargs))
	for _, kv := range kwargs {
		name := string(kv[0].(starlark.String))
		if !paramName.MatchString(name) {
			return nil, argError(b, "invalid param name %q", name)
		}
		seq, ok := kv[1].(starlark.Indexable)
		if !ok || kv[1].Type() == "string" {
			return nil, argError(b, "%s: want a list of values, got %s", name, kv[1].Type())
		}
		if seq.Len() == 0 {
			return nil, argError(b, "%s: want at least one value", name)
		}
		axis := plan.MatrixAxis{Name: name, Pos: pos}
		seen := map[string]bool{}
		for i := range seq.Len() {
			v, err := matrixValue(seq.Index(i))
			if err != nil {
				return nil, argError(b, "%s[%d]: %v", name, i, err)
			}
			if seen[v] {
				return nil, argError(b, "%s: value %s given twice", name, v)
			}
			seen[v] = true
			axis.Values = append(axis.Values, v)
		}
		axes = append(axes, axis)
	}
	s.builder.SetMatrix(axes)
	return starlark.None, nil
}

// matrixValue renders a value the way --set would spell it.
func matrixValue(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), nil
	case starlark.Bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case starlark.Int, starlark.Float:
		return v.String(), nil
	}
	return "", fmt.Errorf("want a string, int, float or bool, got %s", v.Type())
}

package starlib

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// maxDuration bounds every duration argument: far beyond any scenario, far
// below time.Duration overflow.
const maxDuration = 365 * 24 * time.Hour

// durationArg unpacks "30s", "2m", "1m30s" or a number of seconds.
type durationArg struct {
	d   time.Duration
	set bool
}

var _ starlark.Unpacker = (*durationArg)(nil)

// Unpack implements starlark.Unpacker.
func (d *durationArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		x, err := time.ParseDuration(string(v))
		if err != nil {
			return fmt.Errorf("invalid duration %q: want a string like \"30s\", \"2m\", \"500ms\" or a number of seconds", string(v))
		}
		d.d = x
	case starlark.Int, starlark.Float:
		secs, _ := starlark.AsFloat(v)
		if math.IsNaN(secs) || math.Abs(secs) > maxDuration.Seconds() {
			return fmt.Errorf("invalid duration %s: out of range", v)
		}
		d.d = time.Duration(secs * float64(time.Second))
	default:
		return fmt.Errorf("got %s, want a duration like \"30s\" or a number of seconds", v.Type())
	}
	if d.d > maxDuration || d.d < -maxDuration {
		return fmt.Errorf("invalid duration %s: out of range", d.d)
	}
	d.set = true
	return nil
}

// spanValue is a protocol-time span returned by blocks(n) and slots(n).
type spanValue struct{ span plan.Span }

var _ starlark.Value = spanValue{}

func (s spanValue) String() string        { return s.span.String() }
func (s spanValue) Type() string          { return "span" }
func (s spanValue) Freeze()               {}
func (s spanValue) Truth() starlark.Bool  { return starlark.True }
func (s spanValue) Hash() (uint32, error) { return uint32(s.span.Blocks*31 + s.span.Slots), nil }

// spanArg unpacks a wall time (as durationArg) or a blocks(n)/slots(n) span.
type spanArg struct {
	span plan.Span
	set  bool
}

var _ starlark.Unpacker = (*spanArg)(nil)

// Unpack implements starlark.Unpacker.
func (s *spanArg) Unpack(v starlark.Value) error {
	if sv, ok := v.(spanValue); ok {
		s.span, s.set = sv.span, true
		return nil
	}
	var d durationArg
	if err := d.Unpack(v); err != nil {
		if _, isStr := v.(starlark.String); !isStr {
			return fmt.Errorf("got %s, want \"20s\", a number of seconds, blocks(n) or slots(n)", v.Type())
		}
		return err
	}
	if d.d < 0 {
		return fmt.Errorf("negative time %s", d.d)
	}
	s.span, s.set = plan.Span{Wall: plan.Duration(d.d)}, true
	return nil
}

// selectorArg unpacks a node selector: a name ("validator-1"), a role
// ("validators", "executors"), "all", a list of names, or an index into the
// topology order (validators first, then executors). Only a single string
// reads as a role or "all": a list always names nodes, so ["validators"] is
// an unknown node that plan validation reports with a hint.
type selectorArg struct{ sel plan.Selector }

var _ starlark.Unpacker = (*selectorArg)(nil)

// Unpack implements starlark.Unpacker.
func (s *selectorArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		name := string(v)
		if !validName(name) {
			return fmt.Errorf("invalid node name %q", name)
		}
		s.sel = plan.SelectString(name)
	case starlark.Int:
		i, ok := v.Int64()
		if !ok || i < 0 || i > math.MaxInt32 {
			return fmt.Errorf("invalid node index %s", v)
		}
		s.sel = plan.SelectIndex(int(i))
	case *starlark.List, starlark.Tuple:
		names, err := stringList(v.(starlark.Indexable))
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return fmt.Errorf("empty list of nodes")
		}
		s.sel = plan.SelectNames(names...)
	default:
		return fmt.Errorf("got %s, want a node name, a list of names, \"validators\", \"executors\", \"all\" or an index", v.Type())
	}
	return nil
}

// validName rejects what cannot be a node name: empty names, commas and a
// leading '#' (the list separator and index mark of a selector's display
// form).
func validName(s string) bool {
	return s != "" && !strings.Contains(s, ",") && !strings.HasPrefix(s, "#")
}

func stringList(l starlark.Indexable) ([]string, error) {
	names := make([]string, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		s, ok := starlark.AsString(l.Index(i))
		if !ok {
			return nil, fmt.Errorf("element %d is %s, want a node name", i, l.Index(i).Type())
		}
		if !validName(s) {
			return nil, fmt.Errorf("invalid node name %q", s)
		}
		names = append(names, s)
	}
	return names, nil
}

// groupsArg unpacks the sides of a partition: a list whose elements are
// node selectors (usually lists of names).
type groupsArg struct{ specs []plan.Selector }

var _ starlark.Unpacker = (*groupsArg)(nil)

// Unpack implements starlark.Unpacker.
func (g *groupsArg) Unpack(v starlark.Value) error {
	l, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return fmt.Errorf("got %s, want a list of groups, e.g. [[\"validator-0\"], [\"validator-1\"]]", v.Type())
	}
	if l.Len() == 0 {
		return fmt.Errorf("no groups given")
	}
	for i := 0; i < l.Len(); i++ {
		var s selectorArg
		if err := s.Unpack(l.Index(i)); err != nil {
			return fmt.Errorf("group %d: %w", i+1, err)
		}
		g.specs = append(g.specs, s.sel)
	}
	return nil
}

// floatArg unpacks an int or a float as a float64 (starlark.UnpackArgs
// accepts only floats for *float64, but scripts write 1 as readily as 1.0).
type floatArg float64

var _ starlark.Unpacker = (*floatArg)(nil)

// Unpack implements starlark.Unpacker.
func (f *floatArg) Unpack(v starlark.Value) error {
	switch v.(type) {
	case starlark.Int, starlark.Float:
		x, _ := starlark.AsFloat(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("got %s, want a finite number", v)
		}
		*f = floatArg(x)
		return nil
	}
	return fmt.Errorf("got %s, want a number", v.Type())
}

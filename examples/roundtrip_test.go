package examples

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/starlib"
)

// TestCanonicalCallsRoundTrip interprets the canonical calls of every
// example's plan (plan.Plan.Starlark), the must-fail scenarios included,
// and expects the same plan back, so the builtins' defaults and the plan's
// representation cannot drift apart.
func TestCanonicalCallsRoundTrip(t *testing.T) {
	mustFail, err := filepath.Glob("must_fail/*.star")
	if err != nil || len(mustFail) == 0 {
		t.Fatalf("no must-fail scenarios: %v", err)
	}
	for _, name := range append(examples(t), mustFail...) {
		orig := planOf(t, name)
		var src strings.Builder
		for _, e := range orig.Expectations {
			if e.Kind == plan.ExpectCustom {
				fmt.Fprintf(&src, "def %s(s):\n    return True\n", strings.SplitN(e.Custom.Func, "@", 2)[0])
			}
		}
		defined := map[string]bool{}
		for _, h := range orig.Hooks {
			if !defined[h.Func] {
				defined[h.Func] = true
				fmt.Fprintf(&src, "def %s(ctx, block=None):\n    pass\n", h.Func)
			}
		}
		src.WriteString(orig.Starlark())
		res, err := starlib.InterpretSource(context.Background(), "roundtrip.star", []byte(src.String()), starlib.Options{Seed: orig.Seed})
		if err != nil {
			t.Errorf("%s: canonical calls do not interpret: %v\n%s", name, err, src.String())
			continue
		}
		ignore := cmp.Options{cmpopts.IgnoreTypes(plan.Pos{}), cmpopts.IgnoreFields(plan.Plan{}, "Scenario", "Params", "Warnings"), cmpopts.EquateEmpty()}
		if diff := cmp.Diff(orig, res.Plan, ignore); diff != "" {
			t.Errorf("%s: round trip differs (-orig +roundtrip):\n%s\nscript:\n%s", name, diff, src.String())
		}
	}
}

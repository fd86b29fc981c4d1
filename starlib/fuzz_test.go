package starlib

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// FuzzInterpret feeds arbitrary bytes to the interpreter as a script: it
// must never panic, and must end with a typed error or a plan that Validate
// can check.
//
//	go test ./starlib -run='^$' -fuzz=FuzzInterpret -fuzztime=5m -parallel=1
func FuzzInterpret(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*.star")
	more, _ := filepath.Glob("testdata/*.star")
	for _, p := range append(seeds, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("topology(validators=2)\npartition([[0], [1]], at=blocks(2))\nrun(blocks=3)\n"))
	f.Add([]byte("x = param('n', 1.5)\nlatency('all', delay=x, loss=0.5)\n"))
	logger := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, src []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := InterpretSource(ctx, "fuzz.star", src, Options{MaxSteps: 200_000, Logger: logger})
		if err != nil {
			if !typedError(err) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if res.Plan == nil {
			t.Fatal("no error and no plan")
		}
		verr := res.Plan.Validate(allCaps)
		if verr != nil && len(plan.PlanErrors(verr)) == 0 {
			t.Fatalf("Validate returned an untyped error: %v", verr)
		}
		if _, err := res.Plan.JSON(); err != nil {
			t.Fatalf("JSON: %v", err)
		}
		if err := res.Plan.WriteText(discard{}); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, res.Plan, logger)
	})
}

// roundTrip checks that the canonical calls of a plan interpret to a plan
// with the same canonical calls (plans with custom expectations or hooks
// name functions the calls do not define, so they are skipped).
func roundTrip(t *testing.T, p *plan.Plan, logger *slog.Logger) {
	if len(p.Hooks) > 0 {
		return
	}
	for _, e := range p.Expectations {
		if e.Kind == plan.ExpectCustom {
			return
		}
	}
	src := p.Starlark()
	res, err := InterpretSource(context.Background(), "roundtrip.star", []byte(src), Options{Logger: logger})
	if err != nil {
		t.Fatalf("canonical calls do not interpret: %v\n%s", err, src)
	}
	if again := res.Plan.Starlark(); again != src {
		t.Fatalf("round trip changed the plan:\n%s\n---\n%s", src, again)
	}
}

// typedError reports whether err is (a join of) the interpreter's typed errors.
func typedError(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !typedError(e) {
				return false
			}
		}
		return true
	}
	var se *ScriptError
	var ue *UsageError
	return errors.As(err, &se) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

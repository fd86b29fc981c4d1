// Package examples holds the example scenarios. Its tests plan every
// example and compare the plan with a golden file, so the documentation
// cannot rot; `go test ./examples -update` rewrites the golden files.
package examples

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodekind"
	_ "github.com/nomosrun/nomosrun/nodekind/cometbft" // the examples' node kinds
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
	"github.com/nomosrun/nomosrun/starlib"
)

var update = flag.Bool("update", false, "rewrite the golden plans in testdata/")

// every runner supports every capability (see cmd/nomosrun/runners.go).
var allCaps = plan.NewCapabilities(plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapIsolate,
	plan.CapPartition, plan.CapLatency, plan.CapClockSkew, plan.CapLogs, plan.CapDA)

func examples(t testing.TB) []string {
	files, err := filepath.Glob("*.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	// The examples of other node kinds, one directory per kind.
	kinds, err := filepath.Glob("cometbft/*.star")
	if err != nil || len(kinds) == 0 {
		t.Fatalf("no CometBFT examples: %v", err)
	}
	return append(files, kinds...)
}

// planOf interprets and validates one example as `nomosrun plan` does.
func planOf(tb testing.TB, name string) *plan.Plan {
	res, err := starlib.Interpret(context.Background(), os.DirFS("."), "examples", name, starlib.Options{Seed: plan.DefaultSeed})
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if err := res.Plan.Validate(allCaps); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	kind, err := nodekind.Get(res.Plan.Topology.Node)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if err := kind.Check(res.Plan); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return res.Plan
}

func TestGoldenPlans(t *testing.T) {
	for _, name := range examples(t) {
		t.Run(name, func(t *testing.T) {
			got, err := planOf(t, name).JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(name, ".star")+".plan.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./examples -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("plan of %s differs from %s (-want +got):\n%s", name, golden, diff)
			}
		})
	}
}

// TestGoldenFilesHaveExamples catches golden files left behind by a removed example.
func TestGoldenFilesHaveExamples(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/*.plan.json")
	for _, g := range goldens {
		star := strings.TrimSuffix(filepath.Base(g), ".plan.json") + ".star"
		if _, err := os.Stat(star); err != nil {
			t.Errorf("%s has no example %s", g, star)
		}
	}
}

// TestExamplesStayFast keeps the examples runnable quickly on a small
// machine: slots of at most 1s and run windows of at most 60s.
func TestExamplesStayFast(t *testing.T) {
	for _, name := range examples(t) {
		p := planOf(t, name)
		if p.Topology.Slot.Std() > 1e9 || p.Derived.RunDuration.Std() > 60e9 {
			t.Errorf("%s: slot %s, run %s; keep slots <= 1s and runs <= 60s", name, p.Topology.Slot, p.Derived.RunDuration)
		}
	}
}

func TestMatrixParams(t *testing.T) {
	res, err := starlib.Interpret(context.Background(), os.DirFS("."), "examples", "matrix.star",
		starlib.Options{Seed: 1, Set: map[string]string{"validators": "5", "chaos": "true", "duration": "30s"}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	if p.Topology.Validators != 5 || len(p.Workloads) != 2 || p.Derived.RunDuration.Std().Seconds() != 30 {
		t.Errorf("matrix with --set: %d validators, %d workloads, run %s", p.Topology.Validators, len(p.Workloads), p.Derived.RunDuration)
	}
	if p.Params["validators"] != "5" || p.Params["chaos"] != "True" {
		t.Errorf("params = %v", p.Params)
	}
}

func BenchmarkExamples(b *testing.B) {
	for _, name := range examples(b) {
		b.Run(strings.TrimSuffix(name, ".star"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				planOf(b, name)
			}
		})
	}
}

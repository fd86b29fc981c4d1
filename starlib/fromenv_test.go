package starlib

import (
	"testing"
	"time"
)

// A scenario that opts in takes the shape and window given from outside;
// one that does not keeps its own, and the Result says which it took.
func TestFromEnv(t *testing.T) {
	three, two, run := 3, 2, 45*time.Second
	shape := Shape{Validators: &three, Executors: &two, Run: &run,
		From: map[string]string{"validators": "NOMOS_DEMO_VALIDATORS", "executors": "COMPOSE_NODE_PAIRS", "run": "NOMOS_DEMO_RUN_SECS"}}
	const src = "t = topology(validators=1, executors=1, from_env=True)\nexpect_liveness()\nrun(blocks=5, from_env=True)\n" +
		"if len(t.validators) != 3 or len(t.executors) != 2:\n  fail(t)\n"
	res, err := interpret(t, src, Options{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Plan
	if p.Topology.Validators != 3 || p.Topology.Executors != 2 || time.Duration(p.Run.Duration) != run || p.Run.Blocks != 0 {
		t.Errorf("topology %d+%d, run %v / %d blocks; want 3+2 and 45s", p.Topology.Validators, p.Topology.Executors, p.Run.Duration, p.Run.Blocks)
	}
	if !res.OptedIn.Topology || !res.OptedIn.Run {
		t.Errorf("OptedIn = %+v, want both", res.OptedIn)
	}
	for k, want := range map[string]string{"NOMOS_DEMO_VALIDATORS": "3", "COMPOSE_NODE_PAIRS": "2", "NOMOS_DEMO_RUN_SECS": "45"} {
		if p.Params[k] != want {
			t.Errorf("params[%s] = %q, want %q (params %v)", k, p.Params[k], want, p.Params)
		}
	}

	res, err = interpret(t, "topology(validators=1, executors=1)\nexpect_liveness()\nrun(\"20s\")\n", Options{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Plan; p.Topology.Validators != 1 || p.Topology.Executors != 1 || time.Duration(p.Run.Duration) != 20*time.Second || len(p.Params) != 0 {
		t.Errorf("without from_env: %+v, run %v, params %v; want the script's own", p.Topology, p.Run.Duration, p.Params)
	}
	if res.OptedIn.Topology || res.OptedIn.Run {
		t.Errorf("OptedIn = %+v, want none", res.OptedIn)
	}
}

// The environment's values go through the same checks as the script's.
func TestFromEnvChecked(t *testing.T) {
	big := maxNodes + 1
	_, err := interpret(t, "topology(from_env=True)\n", Options{Shape: Shape{Validators: &big}})
	if err == nil {
		t.Fatal("no error for too many nodes")
	}
}

package attach

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

func twoValidators(faults ...plan.Fault) *plan.Plan {
	return &plan.Plan{Faults: faults, Topology: plan.Topology{Nodes: []plan.Node{
		{Name: "validator-0", Role: plan.RoleValidator}, {Name: "validator-1", Role: plan.RoleValidator, Index: 1},
	}}}
}

func deploy(t *testing.T, p *plan.Plan, ep *Endpoints) (runners.Cluster, error) {
	t.Helper()
	dir := t.TempDir()
	if err := Write(dir, ep); err != nil {
		t.Fatal(err)
	}
	r, _ := New(Options{Endpoints: dir})
	return r.Deploy(context.Background(), runners.DeploySpec{Plan: p, RunDir: t.TempDir()})
}

func TestAttachMatchesTheTopology(t *testing.T) {
	ep := &Endpoints{Nodes: []Node{
		{Name: "validator-1", Role: "validator", API: "http://b", TestingAPI: "http://bt"},
		{Name: "validator-0", Role: "validator", API: "http://a", TestingAPI: "http://at"},
	}}
	c, err := deploy(t, twoValidators(), ep)
	if err != nil {
		t.Fatal(err)
	}
	ns := c.Nodes()
	if len(ns) != 2 || ns[0].Name() != "validator-0" || ns[0].API() != "http://a" || ns[1].TestingAPI() != "http://bt" {
		t.Errorf("nodes %v", ns)
	}
	if err := c.Teardown(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestAttachSaysWhatDoesNotMatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		ep   *Endpoints
		p    *plan.Plan
		want []string
	}{
		{"missing node", &Endpoints{Nodes: []Node{{Name: "validator-0", Role: "validator", API: "http://a"}}}, twoValidators(),
			[]string{"the scenario's validator-1 is not in the file (it lists validator-0)", "same node names and roles"}},
		{"wrong role and extra node", &Endpoints{Nodes: []Node{{Name: "validator-0", Role: "executor", API: "http://a"},
			{Name: "validator-1", Role: "validator", API: "http://b"}, {Name: "executor-9", Role: "executor", API: "http://c"}}}, twoValidators(),
			[]string{"validator-0 is a executor in the file and a validator in the scenario", "the file's executor-9 is not in the scenario's topology"}},
		{"another node kind", &Endpoints{Kind: "cometbft", Nodes: []Node{{Name: "validator-0", Role: "validator", API: "http://a"},
			{Name: "validator-1", Role: "validator", API: "http://b"}}}, twoValidators(),
			[]string{`the network runs cometbft nodes and the scenario reference nodes: set topology(node="cometbft")`}},
		{"fault without testing API", &Endpoints{Nodes: []Node{{Name: "validator-0", Role: "validator", API: "http://a"},
			{Name: "validator-1", Role: "validator", API: "http://b", TestingAPI: "http://bt"}}},
			twoValidators(plan.Fault{ID: "f1", Kind: plan.FaultIsolate}),
			[]string{"validator-0 has no testing_api URL"}},
	} {
		_, err := deploy(t, tc.p, tc.ep)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want %q", tc.name, err, w)
			}
		}
	}
}

func TestAttachWithoutAFileSaysHow(t *testing.T) {
	t.Setenv("NOMOS_ATTACH_ENDPOINTS", "")
	r, _ := New(Options{})
	_, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: twoValidators(), RunDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "set NOMOS_ATTACH_ENDPOINTS") {
		t.Errorf("%v", err)
	}
	bad := filepath.Join(t.TempDir(), "endpoints.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	r, _ = New(Options{Endpoints: bad})
	if _, err := r.Deploy(context.Background(), runners.DeploySpec{Plan: twoValidators(), RunDir: t.TempDir()}); err == nil ||
		!strings.Contains(err.Error(), "is not an endpoints file") {
		t.Errorf("%v", err)
	}
}

// TestNodeControlNeedsEveryContainer: restart, kill, pause and logs are
// offered, at plan time, only when the endpoints file names the container
// of every node; a node without one is refused by name.
func TestNodeControlNeedsEveryContainer(t *testing.T) {
	dir := t.TempDir()
	ep := &Endpoints{Nodes: []Node{{Name: "validator-0", Role: "validator", API: "http://a", Container: "c0"},
		{Name: "validator-1", Role: "validator", API: "http://b"}}}
	if err := Write(dir, ep); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOMOS_ATTACH_ENDPOINTS", dir)
	if caps := capsHere(); caps.Has(plan.CapRestart) || caps.Has(plan.CapKill) || !caps.Has(plan.CapIsolate) {
		t.Fatalf("one container missing: caps %v", caps.Sorted())
	}
	ep.Nodes[1].Container = "c1"
	if err := Write(dir, ep); err != nil {
		t.Fatal(err)
	}
	for _, c := range []plan.Capability{plan.CapRestart, plan.CapKill, plan.CapPause, plan.CapLogs, plan.CapIsolate} {
		if !capsHere().Has(c) {
			t.Errorf("every container named: no %s", c)
		}
	}
	c := &Cluster{nodes: []*node{{Node: Node{Name: "validator-0"}}}}
	if err := c.Kill(context.Background(), "validator-0"); err == nil || !strings.Contains(err.Error(), "names no container") {
		t.Errorf("kill without a container: %v", err)
	}
}

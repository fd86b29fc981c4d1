package plan

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func pos(line int32) Pos { return Pos{File: "s.star", Line: line, Col: 1} }

func TestBuilderIDsAndImplicitExpectations(t *testing.T) {
	b := NewBuilder("s.star", 7)
	b.SetTopology(Topology{Validators: 2, Executors: 1, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 0.5, SecurityParam: 4, Pos: pos(1)})
	b.SetWallets(Wallets{Count: 10, Funds: 100, Pos: pos(2)})
	if id, _ := b.AddExpectation(Expectation{Kind: ExpectLiveness, Pos: pos(3), Liveness: &LivenessParams{}}); id != "e1" {
		t.Errorf("first expectation id %s", id)
	}
	if id, _ := b.AddWorkload(Workload{Kind: WorkloadTransactions, Pos: pos(4), Transactions: &Transactions{Rate: 1}}); id != "w1" {
		t.Errorf("first workload id %s", id)
	}
	if _, err := b.AddWorkload(Workload{Kind: WorkloadTransactions, Pos: pos(5), Transactions: &Transactions{Rate: 1}}); err == nil {
		t.Error("second transactions workload: want an error")
	}
	if id, _ := b.AddExpectation(Expectation{Kind: ExpectTxInclusion, Pos: pos(6), Inclusion: &InclusionParams{MinRatio: 0.9}}); id != "e2" {
		t.Errorf("explicit tx_inclusion should take the implicit one's id e2, got %s", id)
	}
	if _, err := b.AddExpectation(Expectation{Kind: ExpectTxInclusion, Pos: pos(7), Inclusion: &InclusionParams{}}); err == nil || !strings.Contains(err.Error(), "s.star:6:1") {
		t.Errorf("second explicit tx_inclusion: err = %v", err)
	}
	if id, _ := b.AddFault(Fault{Kind: FaultKill, Targets: SelectNames("validator-1"), Kill: &KillParams{}}); id != "f1" {
		t.Errorf("fault id %s", id)
	}
	p := b.Build()
	if p.Seed != 7 || len(p.Expectations) != 2 || p.Expectations[1].Implicit || p.Expectations[1].Inclusion.MinRatio != 0.9 {
		t.Errorf("plan = seed %d, expectations %+v", p.Seed, p.Expectations)
	}
	if got := p.Faults[0].Targets.Nodes; !cmp.Equal(got, []string{"validator-1"}) {
		t.Errorf("targets = %v", got)
	}
	// Build leaves the builder unchanged.
	if q := b.Build(); !cmp.Equal(p, q) {
		t.Error("Build is not repeatable")
	}
}

func TestDerivedFigures(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetWallets(Wallets{Count: 1000, Funds: 100})
	b.AddWorkload(Workload{Kind: WorkloadTransactions, Transactions: &Transactions{Rate: 5, Users: 500}})
	b.AddWorkload(Workload{Kind: WorkloadDA, DA: &DA{ChannelRate: 3, BlobRate: 2, Headroom: 20}})
	p := b.Build() // default topology: 2s slots, f=0.9, k=10; default 60s run
	d := p.Derived
	want := Derived{
		BlockInterval:   Duration(2222222222),       // 2s / 0.9
		RunDuration:     Duration(60 * time.Second), // default
		ExpectedBlocks:  27,                         // ceil(60/2*0.9)
		Cooldown:        Duration(22222222220),      // max(5, k=10) * interval
		PlannedTxs:      135,                        // 60s / 2.222s * 5 = 135 < 500 users
		PlannedChannels: 4,                          // 3 + ceil(3*20/100)
		PlannedBlobs:    4,                          // 2 * max(1, 27/10)
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("derived (-want +got):\n%s", diff)
	}
	b.AddFault(Fault{Kind: FaultPause, Targets: SelectAll()})
	if c := b.Build().Derived.Cooldown; c != Duration(30*time.Second) {
		t.Errorf("cooldown with node control = %s, want 30s", c)
	}
}

func TestNoCooldownWithoutWorkloadsOrFaults(t *testing.T) {
	b := NewBuilder("s.star", 1)
	if c := b.Build().Derived.Cooldown; c != 0 {
		t.Errorf("cooldown of a plan without workloads or faults = %s, want none", c)
	}
	b.AddFault(Fault{Kind: FaultIsolate, Targets: SelectNames("validator-0")})
	if c := b.Build().Derived.Cooldown; c != Duration(22222222220) {
		t.Errorf("cooldown with a fault = %s, want max(5, k=10) block intervals", c)
	}
}

func TestRunWindowAndWall(t *testing.T) {
	topo := Topology{Slot: Duration(time.Second), ActiveSlotCoeff: 0.5}
	if got := topo.Wall(Span{Blocks: 3}); got != 6*time.Second {
		t.Errorf("blocks(3) = %s, want 6s (3 x 1s/0.5)", got)
	}
	if got := topo.Wall(Span{Slots: 3}); got != 3*time.Second {
		t.Errorf("slots(3) = %s", got)
	}
	if got := topo.Wall(Span{Wall: Duration(time.Minute)}); got != time.Minute {
		t.Errorf("wall = %s", got)
	}
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 1, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 0.5, SecurityParam: 1})
	b.SetRun(Run{Blocks: 10, Pos: pos(9)})
	if p := b.Build(); p.Derived.RunDuration != Duration(20*time.Second) || len(p.Warnings) != 0 {
		t.Errorf("run(blocks=10) = %s, warnings %v", p.Derived.RunDuration, p.Warnings)
	}
	b = NewBuilder("s.star", 1)
	b.SetRun(Run{Duration: Duration(time.Second), Pos: pos(9)})
	p := b.Build()
	if p.Derived.RunDuration != Duration(4444444444) || len(p.Warnings) != 1 || p.Warnings[0].Pos != pos(9) {
		t.Errorf("clamp: run %s, warnings %v", p.Derived.RunDuration, p.Warnings)
	}
}

func TestValidateReportsEverythingSorted(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 0, Executors: 0, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 1, Pos: pos(1)})
	b.SetRun(Run{Duration: Duration(10 * time.Second), Pos: pos(2)})
	b.AddFault(Fault{Kind: FaultIsolate, Pos: pos(5), Targets: SelectNames("validator-0"), At: Span{Wall: Duration(20 * time.Second)}})
	b.AddWorkload(Workload{Kind: WorkloadDA, Pos: pos(3), DA: &DA{ChannelRate: 1, BlobRate: 1}})
	b.AddWorkload(Workload{Kind: WorkloadChaosRestart, Pos: pos(4), ChaosRestart: &ChaosRestart{Validators: true}})
	err := b.Build().ValidateOn("compose runner", NewCapabilities(CapIsolate))
	errs := PlanErrors(err)
	var lines []int32
	for _, e := range errs {
		lines = append(lines, e.Pos.Line)
	}
	if !cmp.Equal(lines, []int32{1, 3, 3, 4, 4, 5, 5}) {
		t.Fatalf("error lines = %v:\n%v", lines, err)
	}
	for _, want := range []string{"s.star:1:1: the topology has no validators", "da needs an executor",
		`compose runner lacks the "da" capability`, "chaos_restart has no node to restart", `lacks the "restart" capability`,
		`isolate: no node "validator-0" in the topology (have no nodes)`, "isolate starts at 20s, after the run ends at 10s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestResolveAndSuggest(t *testing.T) {
	topo := Topology{Validators: 3, Executors: 2}
	for _, tc := range []struct {
		sel            Selector
		nodes, unknown []string
	}{
		{SelectAll(), []string{"validator-0", "validator-1", "validator-2", "executor-0", "executor-1"}, nil},
		{SelectString("all"), []string{"validator-0", "validator-1", "validator-2", "executor-0", "executor-1"}, nil},
		{SelectString("executors"), []string{"executor-0", "executor-1"}, nil},
		{SelectRole(RoleValidator), []string{"validator-0", "validator-1", "validator-2"}, nil},
		{SelectString("validator-2"), []string{"validator-2"}, nil},
		{SelectIndex(3), []string{"executor-0"}, nil},
		{SelectIndex(9), nil, []string{"index 9"}},
		{SelectNames("executor-1", "validator-0", "ghost"), []string{"validator-0", "executor-1"}, []string{"ghost"}},
		{SelectNames("validators"), nil, []string{"validators"}},
	} {
		nodes, unknown := topo.Resolve(tc.sel)
		if !cmp.Equal(nodes, tc.nodes) || !cmp.Equal(unknown, tc.unknown) {
			t.Errorf("Resolve(%s) = %v, %v; want %v, %v", tc.sel, nodes, unknown, tc.nodes, tc.unknown)
		}
	}
	if s := suggest("executer-1", NodesOf(3, 2)); s != "executor-1" {
		t.Errorf("suggest = %q", s)
	}
	if s := suggest("zzzzzzzzzzzzzzzz", NodesOf(3, 2)); s != "" {
		t.Errorf("suggest for nonsense = %q, want none", s)
	}
}

func TestJSONRoundTripAndText(t *testing.T) {
	b := NewBuilder("s.star", 3)
	b.SetParam("b", "2")
	b.SetParam("a", "1")
	b.AddFault(Fault{Kind: FaultKill, Targets: SelectNames("validator-0"), At: Span{Blocks: 2}, Kill: &KillParams{RestartAfter: Span{Slots: 4}}})
	p := b.Build()
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"params": {`+"\n"+`    "a": "1",`)) {
		t.Errorf("params not sorted:\n%s", data)
	}
	q, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, q); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var text strings.Builder
	if err := p.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"seed      3", "params    a=1 b=2", "f1   4.444s..12.444s", "kill validator-0, restart after slots(4)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestValidateRejectsPlanWithoutExpectations(t *testing.T) {
	pos := Pos{File: "s.star", Line: 3, Col: 4}
	p := &Plan{Topology: Topology{Validators: 1, Slot: Duration(time.Second), ActiveSlotCoeff: 0.9, SecurityParam: 10},
		Run: Run{Duration: Duration(time.Minute), Pos: pos}}
	p.Topology.Nodes = []Node{{Name: "validator-0", Role: RoleValidator}}
	err := p.Validate(Capabilities{})
	if err == nil || !strings.Contains(err.Error(), "s.star:3:4: the scenario checks nothing") ||
		!strings.Contains(err.Error(), "allow_no_expectations=True") {
		t.Fatalf("Validate without expectations = %v, want the vacuous-pass error at the run() call with the fix", err)
	}
	if err := p.ValidateDeployOn("host runner", Capabilities{}); err != nil {
		t.Fatalf("ValidateDeployOn (nomosrun up) must accept a plan without expectations: %v", err)
	}
	p.Run.NoExpectations = true
	if err := p.Validate(Capabilities{}); err != nil {
		t.Fatalf("an explicit opt-out must validate: %v", err)
	}
}

func TestSelectorVariantsAndCompareOps(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 2, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 1, Pos: pos(1)})
	b.SetRun(Run{Duration: Duration(10 * time.Second), Pos: pos(2)})
	b.AddFault(Fault{Kind: FaultPause, Pos: pos(3), Targets: Selector{All: true, Role: RoleValidator}})
	b.AddExpectation(Expectation{Kind: ExpectMetric, Pos: pos(4), Metric: &MetricParams{Query: "sum(x", Op: "=~", Value: 1}})
	err := b.Build().Validate(NewCapabilities(CapPause))
	for _, want := range []string{"pause: the selector sets 2 of all, role, names and index",
		`expect_metric: metric query "sum(x"`, `expect_metric: unknown op "=~"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	for _, tc := range []struct {
		op   string
		a, b float64
		want bool
	}{{"<", 1, 2, true}, {"<=", 2, 2, true}, {">", 2, 2, false}, {">=", 3, 2, true}, {"==", 2, 2, true}, {"!=", 2, 2, false}} {
		op, err := ParseCompareOp(tc.op)
		if err != nil || op.Compare(tc.a, tc.b) != tc.want {
			t.Errorf("%g %s %g = %v (%v), want %v", tc.a, tc.op, tc.b, op.Compare(tc.a, tc.b), err, tc.want)
		}
	}
	if _, err := ParseCompareOp("=~"); err == nil {
		t.Error(`ParseCompareOp("=~") accepted`)
	}
}

func TestFaultParamsMatchKind(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 2, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 1, Pos: pos(1)})
	b.SetRun(Run{Duration: Duration(10 * time.Second), NoExpectations: true, Pos: pos(2)})
	b.AddFault(Fault{Kind: FaultKill, Pos: pos(3), Targets: SelectAll()})
	b.AddFault(Fault{Kind: FaultPause, Pos: pos(4), Targets: SelectAll(), Latency: &LatencyParams{Delay: Duration(time.Second)}})
	b.AddFault(Fault{Kind: FaultClockSkew, Pos: pos(5), Targets: SelectAll(), ClockSkew: &ClockSkewParams{Offset: Duration(time.Second)},
		Bug: &BugParams{Name: "stop_applying"}})
	b.AddFault(Fault{Kind: "melt", Pos: pos(6), Targets: SelectAll()})
	b.AddFault(Fault{Kind: FaultBug, Pos: pos(7), Targets: SelectAll(), Bug: &BugParams{Name: "stop_applying"}})
	errs := PlanErrors(b.Build().Validate(NewCapabilities(CapKill, CapPause, CapClockSkew)))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"s.star:3:1: f1: the kill fault has no kill parameters",
		"s.star:4:1: f2: a pause fault has latency parameters; it takes none",
		"s.star:5:1: f3: a clock_skew fault has bug parameters; set only the clock_skew ones",
		`s.star:6:1: f4: unknown fault kind "melt"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestExpectationParamsMatchKind(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 2, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 1, Pos: pos(1)})
	b.SetRun(Run{Duration: Duration(10 * time.Second), Pos: pos(2)})
	b.AddExpectation(Expectation{Kind: ExpectLiveness, Pos: pos(3)})
	b.AddExpectation(Expectation{Kind: ExpectAgreement, Pos: pos(4), Inclusion: &InclusionParams{MinRatio: 1}})
	b.AddExpectation(Expectation{Kind: ExpectMetric, Pos: pos(5), Metric: &MetricParams{Query: "x", Op: ">", Value: 1},
		Log: &LogParams{Targets: SelectAll(), Pattern: "p"}})
	b.AddExpectation(Expectation{Kind: "vibes", Pos: pos(6)})
	b.AddExpectation(Expectation{Kind: ExpectCustom, Pos: pos(7), Custom: &CustomParams{Func: "f"}})
	errs := PlanErrors(b.Build().Validate(Capabilities{}))
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"s.star:3:1: e1: the liveness expectation has no liveness parameters",
		"s.star:4:1: e2: a consensus_agreement expectation has inclusion parameters; it takes none",
		"s.star:5:1: e3: a metric expectation has log parameters; set only the metric ones",
		`s.star:6:1: e4: unknown expectation kind "vibes"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

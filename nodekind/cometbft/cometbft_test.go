package cometbft

import (
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/plan"
)

func TestCheckNamesWhatCometBFTCannotServe(t *testing.T) {
	p := testPlan(4, plan.NetworkFull)
	if err := (Kind{}).Check(p); err != nil {
		t.Fatalf("a plain plan: %v", err)
	}
	at := func(line int32) plan.Pos { return plan.Pos{File: "s.star", Line: line, Col: 1} }
	p.Topology.Executors, p.Topology.Pos = 1, at(1)
	p.Workloads = []plan.Workload{{ID: "w1", Kind: plan.WorkloadDA, Pos: at(2)}, {ID: "w2", Kind: plan.WorkloadTransactions, Pos: at(3)}}
	p.Faults = []plan.Fault{
		{ID: "f1", Kind: plan.FaultClockSkew, Pos: at(4)},
		{ID: "f2", Kind: plan.FaultBug, Pos: at(5)},
		{ID: "f3", Kind: plan.FaultPartition, Via: plan.ViaNode, Pos: at(6)},
		{ID: "f4", Kind: plan.FaultPartition, Pos: at(7)},
		{ID: "f5", Kind: plan.FaultKill, Pos: at(8)},
	}
	err := (Kind{}).Check(p)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"s.star:1:1: node kind cometbft: a CometBFT network has validators only; set executors=0",
		"s.star:2:1: node kind cometbft: workload w1 needs data availability",
		"s.star:4:1: node kind cometbft: fault f1: CometBFT has no clock hook",
		"s.star:5:1: node kind cometbft: fault f2: test bugs",
		"s.star:6:1: node kind cometbft: fault f3: via=\"node\""} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, ok := range []string{"w2", "f4", "f5"} {
		if strings.Contains(msg, ok+" ") || strings.Contains(msg, ok+":") {
			t.Errorf("error names %s, which CometBFT serves:\n%s", ok, msg)
		}
	}
}

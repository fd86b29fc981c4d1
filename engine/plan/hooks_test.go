package plan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestHooksValidateAndRender(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 2, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 4, Pos: pos(1)})
	b.AddExpectation(Expectation{Kind: ExpectAgreement, Pos: pos(2)})
	for _, h := range []Hook{
		{Kind: HookOnBlock, Func: "adapt", Pos: pos(3), Uses: []Capability{CapPartition}},
		{Kind: HookEvery, Func: "sample", Pos: pos(4), Every: Span{Blocks: 2}},
		{Kind: HookAt, Func: "late", Pos: pos(5), At: Span{Wall: Duration(time.Hour)}},
		{Kind: HookEvery, Func: "never", Pos: pos(6)},
		{Kind: HookOnBlock, Func: "odd", Pos: pos(7), Uses: []Capability{"teleport"}},
	} {
		if _, err := b.AddHook(h); err != nil {
			t.Fatal(err)
		}
	}
	p := b.Build()
	if p.Hooks[4].ID != "h5" {
		t.Errorf("hook ids: %+v", p.Hooks)
	}
	// A hook may submit or disrupt, so the run keeps its cooldown; only
	// kill, restart and pause in uses= count as node control.
	if p.Derived.Cooldown == 0 || p.NeedsNodeControl() {
		t.Errorf("cooldown %s, node control %v", p.Derived.Cooldown, p.NeedsNodeControl())
	}
	b.AddHook(Hook{Kind: HookAt, Func: "bounce", Uses: []Capability{CapRestart}})
	if !b.Build().NeedsNodeControl() {
		t.Error("a hook using restart: want node control")
	}
	var msgs []string
	for _, e := range PlanErrors(p.ValidateOn("the host runner", NewCapabilities(CapKill))) {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`s.star:3:1: hook h1 (on_block adapt) uses partition, which the host runner cannot do (it has: kill); pick another --runner or take "partition" out of uses=`,
		`s.star:5:1: hook h3 (at late) starts at 1h0m0s, after the run ends at 1m0s; make it earlier or lengthen run`,
		`s.star:6:1: hook h4 (every never): every needs a positive interval`,
		`s.star:7:1: hook h5 (on_block odd): uses "teleport", which is not a hook capability (want one of clock_skew, isolate, kill, latency, partition, pause, restart)`,
	}
	if got := strings.Join(msgs, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	src := p.Starlark()
	for _, call := range []string{`on_block(adapt, uses=["partition"])`, `every(blocks(2), sample)`, `at("1h0m0s", late)`} {
		if !strings.Contains(src, call+"\n") {
			t.Errorf("canonical calls lack %s:\n%s", call, src)
		}
	}
	var text bytes.Buffer
	p.WriteText(&text)
	if !strings.Contains(text.String(), "h2   sample every blocks(2) (2s), uses nothing  s.star:4:1") {
		t.Errorf("text:\n%s", text.String())
	}
}

func TestResolveFault(t *testing.T) {
	b := NewBuilder("s.star", 1)
	b.SetTopology(Topology{Validators: 3, Network: NetworkStar, Slot: Duration(time.Second), ActiveSlotCoeff: 1, SecurityParam: 4})
	p := b.Build()
	f, err := p.ResolveFault(Fault{Kind: FaultPartition, Partition: &PartitionParams{GroupSpecs: []Selector{SelectNames("validator-0")}}})
	if err != nil || len(f.Partition.Groups) != 2 || len(f.Partition.Groups[1]) != 2 {
		t.Errorf("partition = %+v, %v", f.Partition, err)
	}
	if _, err := p.ResolveFault(Fault{Kind: FaultKill, Targets: SelectNames("validator-9"), Kill: &KillParams{}}); err == nil ||
		!strings.Contains(err.Error(), `no node "validator-9"`) {
		t.Errorf("unknown node: %v", err)
	}
}

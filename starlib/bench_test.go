package starlib

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// largeScenario is a generated 1,000-validator scenario with 20 faults.
func largeScenario() []byte {
	var b strings.Builder
	b.WriteString("t = topology(validators=1000, executors=4, network=\"full\", slot=\"1s\")\nwallets(5000)\n")
	b.WriteString("transactions(rate=20)\nda(channel_rate=2)\nrun(\"60s\")\n")
	for i := 0; i < 20; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "kill(t.validators[%d], at=\"%ds\", restart_after=\"5s\")\n", i*10, i+1)
		case 1:
			fmt.Fprintf(&b, "pause(t.validators[%d:%d], at=slots(%d), duration=\"3s\")\n", i*10, i*10+20, i+1)
		case 2:
			fmt.Fprintf(&b, "partition([t.validators[:500], t.validators[500:]], at=\"%ds\", duration=blocks(4))\n", i+1)
		case 3:
			fmt.Fprintf(&b, "latency(\"validators\", delay=\"100ms\", loss=0.01, at=\"%ds\", duration=\"5s\")\n", i+1)
		case 4:
			fmt.Fprintf(&b, "isolate([n for n in t.validators if n.endswith(\"%d\")], at=\"%ds\", duration=\"4s\")\n", i%10, i+1)
		}
	}
	b.WriteString("expect_liveness()\nexpect_consensus_agreement()\n")
	return []byte(b.String())
}

func TestLargeScenario(t *testing.T) {
	res, err := InterpretSource(context.Background(), "large.star", largeScenario(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Plan.Validate(allCaps); err != nil {
		t.Fatal(err)
	}
	if n := len(res.Plan.Topology.Nodes); n != 1004 || len(res.Plan.Faults) != 20 {
		t.Errorf("%d nodes, %d faults; want 1004 and 20", n, len(res.Plan.Faults))
	}
}

// BenchmarkLargeScenario is interpret + validate of largeScenario (target: < 100ms).
func BenchmarkLargeScenario(b *testing.B) {
	src := largeScenario()
	b.ReportAllocs()
	for b.Loop() {
		res, err := InterpretSource(context.Background(), "large.star", src, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := res.Plan.Validate(allCaps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHookCall is the interpreter's cost of one call of an every hook
// that reads the height and keeps a counter in ctx.state.
func BenchmarkHookCall(b *testing.B) {
	res, err := InterpretSource(context.Background(), "h.star",
		[]byte("def tick(ctx):\n    ctx.state['n'] = ctx.state.get('n', 0) + ctx.height\nevery('1s', tick)\n"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	h, fake := res.Plan.Hooks[0], &fakeRun{}
	b.ReportAllocs()
	for b.Loop() {
		if err := res.Hooks.Call(context.Background(), h, fake, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnBlockTxs is one call of an on_block hook that reads the
// block's transactions and records their count.
func BenchmarkOnBlockTxs(b *testing.B) {
	res, err := InterpretSource(context.Background(), "h.star",
		[]byte("def seen(ctx, block):\n    ctx.record('txs', len([t for t in block.txs if t]))\non_block(seen)\n"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	blk := fakeChain()[3]
	for i := 0; i < 500; i++ {
		blk.Txs = append(blk.Txs, fmt.Sprintf("tx-%d", i))
	}
	h, fake := res.Plan.Hooks[0], &fakeRun{}
	b.ReportAllocs()
	for b.Loop() {
		fake.actions = fake.actions[:0]
		if err := res.Hooks.Call(context.Background(), h, fake, &blk); err != nil {
			b.Fatal(err)
		}
	}
}

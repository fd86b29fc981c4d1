package hooks

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// counter is a Caller that does nothing but count, so a benchmark measures
// the scheduler alone.
type counter struct {
	n    atomic.Int64
	stop int64
	done context.CancelFunc
}

func (c *counter) Call(context.Context, plan.Hook, Context, *Block) error {
	if c.n.Add(1) == c.stop {
		c.done()
	}
	return nil
}

// BenchmarkEveryCall is the scheduler's cost per call of an every hook
// (a 1 µs interval, so the calls come back to back): timer, ordering,
// bookkeeping; the interpreter's cost per call is starlib's benchmark.
func BenchmarkEveryCall(b *testing.B) {
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		c := &counter{stop: 1000, done: cancel}
		s := New(Options{Hooks: []plan.Hook{{ID: "h1", Kind: plan.HookEvery, Every: plan.Span{Wall: plan.Duration(time.Microsecond)}}},
			Caller: c, Context: &chain{}})
		if err := s.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/call")
}

// BenchmarkOnBlockDelivery is the cost of handing one block from the feed
// to an on_block hook: Added on the feed's side, then the call.
func BenchmarkOnBlockDelivery(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &counter{stop: -1, done: cancel}
	s := New(Options{Hooks: []plan.Hook{{ID: "h1", Kind: plan.HookOnBlock}}, Caller: c, Context: &chain{}})
	go s.Run(ctx)
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "b" + string(rune('a'+i%26)) + time.Duration(i).String()
	}
	b.ResetTimer()
	for i := range b.N {
		s.Added(Block{ID: ids[i], Height: uint64(i + 1)})
	}
	for c.n.Load() < int64(b.N) {
		time.Sleep(10 * time.Microsecond)
	}
}

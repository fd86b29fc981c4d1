package hooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// recorder is a Caller that notes each call as "id@elapsed" or
// "id:block@elapsed", and can be told to fail or to take time.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	calls []string
	slow  map[string]time.Duration
	fail  map[string]error
}

func newRecorder() *recorder {
	return &recorder{start: time.Now(), slow: map[string]time.Duration{}, fail: map[string]error{}}
}

func (r *recorder) Call(ctx context.Context, h plan.Hook, _ Context, b *Block) error {
	name := h.ID
	if b != nil {
		name += ":" + b.ID
	}
	r.mu.Lock()
	r.calls = append(r.calls, fmt.Sprintf("%s@%s", name, time.Since(r.start)))
	r.mu.Unlock()
	if d := r.slow[h.ID]; d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return r.fail[h.ID]
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// chain is a Context that only knows its height; the scheduler reads no more.
type chain struct {
	Context
	height uint64
}

func (c *chain) Height() uint64 { return c.height }

func (c *chain) Block(string) (Block, bool) { return Block{}, false }

func wall(d time.Duration) plan.Span { return plan.Span{Wall: plan.Duration(d)} }

func hook(id string, kind plan.HookKind, every, at plan.Span) plan.Hook {
	return plan.Hook{ID: id, Kind: kind, Func: "fn_" + id, Every: every, At: at}
}

// start runs a scheduler for hooks in the background, calling rec, and
// returns it with a function that stops it and returns Run's error.
func start(t *testing.T, rec *recorder, hooks ...plan.Hook) (*Scheduler, func() error) {
	t.Helper()
	s := New(Options{Hooks: hooks, Caller: rec, Context: &chain{}, Slot: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	return s, func() error { cancel(); return <-errc }
}

func TestOrderIsTimeThenRegistration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		_, stop := start(t, rec,
			hook("h1", plan.HookEvery, wall(2*time.Second), plan.Span{}),
			hook("h2", plan.HookAt, plan.Span{}, wall(3*time.Second)),
			hook("h3", plan.HookEvery, plan.Span{Slots: 1}, plan.Span{}),
		)
		time.Sleep(4*time.Second + time.Millisecond)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{"h3@1s", "h1@2s", "h3@2s", "h2@3s", "h3@3s", "h1@4s", "h3@4s"}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
	})
}

func TestAtRunsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s, stop := start(t, rec,
			hook("h1", plan.HookAt, plan.Span{}, wall(time.Second)),
			hook("h2", plan.HookAt, plan.Span{}, plan.Span{Blocks: 2}),
		)
		for i := 1; i <= 5; i++ {
			time.Sleep(time.Second)
			s.Added(Block{ID: fmt.Sprint("b", i), Height: uint64(i)})
		}
		time.Sleep(time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := []string{"h1@1s", "h2@2s"}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
		if st := s.Stats(); st.Calls["h1"] != 1 || st.Calls["h2"] != 1 {
			t.Errorf("stats %+v, want one call each", st.Calls)
		}
	})
}

// A reorg's new blocks are delivered once each, in the order the feed
// announced them; a block announced again is not delivered again.
func TestOnBlockEveryBlockOnceInOrderAcrossReorg(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s, stop := start(t, rec,
			hook("h1", plan.HookOnBlock, plan.Span{}, plan.Span{}),
			hook("h2", plan.HookOnBlock, plan.Span{}, plan.Span{}),
		)
		for _, b := range []Block{
			{ID: "a1", Height: 1}, {ID: "a2", Height: 2, Parent: "a1"},
			// the chain switches to the b branch at height 2
			{ID: "b2", Height: 2, Parent: "a1"}, {ID: "b3", Height: 3, Parent: "b2"},
			// a flip back to a2 is not a new block
			{ID: "a2", Height: 2, Parent: "a1"},
		} {
			s.Added(b)
		}
		time.Sleep(time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, b := range []string{"a1", "a2", "b2", "b3"} {
			want = append(want, "h1:"+b+"@0s", "h2:"+b+"@0s")
		}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
	})
}

func TestEveryBlocksCountsFromDriveStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := New(Options{Hooks: []plan.Hook{hook("h1", plan.HookEvery, plan.Span{Blocks: 2}, plan.Span{})},
			Caller: rec, Context: &chain{height: 10}})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- s.Run(ctx) }()
		// heights 11, 12 (due), 13, 14 (due), then a jump to 19: the call due at
		// 16 happens there, and the one due at 18 is skipped
		for _, h := range []uint64{11, 12, 13, 14, 19} {
			time.Sleep(time.Second)
			s.Added(Block{ID: fmt.Sprint("b", h), Height: h})
		}
		time.Sleep(time.Second)
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		want := []string{"h1@2s", "h1@4s", "h1@5s"}
		if got := rec.got(); !slices.Equal(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
		if st := s.Stats(); st.Skipped["h1"] != 1 {
			t.Errorf("skipped %d intervals, want 1", st.Skipped["h1"])
		}
	})
}

// A slow hook never holds up Added; the lag shows in the stats.
func TestSlowHookLagsWithoutBlockingTheFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.slow["h1"] = 3 * time.Second
		s, stop := start(t, rec, hook("h1", plan.HookOnBlock, plan.Span{}, plan.Span{}))
		for i := 1; i <= 3; i++ {
			s.Added(Block{ID: fmt.Sprint("b", i), Height: uint64(i)})
			time.Sleep(time.Second) // Added returned at once: the feed goes on
		}
		time.Sleep(10 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		if st.Calls["h1"] != 3 {
			t.Errorf("%d calls, want 3", st.Calls["h1"])
		}
		// b3 arrived at 2s and was called at 6s; b2 was called at 3s,
		// with b3 already in: one block behind.
		if st.MaxLag != 4*time.Second || st.MaxLagBlocks != 1 {
			t.Errorf("lag %s / %d blocks, want 4s / 1", st.MaxLag, st.MaxLagBlocks)
		}
	})
}

func TestFailingHookStopsTheScheduler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		boom := errors.New("boom")
		rec.fail["h2"] = boom
		h2 := hook("h2", plan.HookAt, plan.Span{}, wall(2*time.Second))
		h2.Pos = plan.Pos{File: "s.star", Line: 4, Col: 1}
		s := New(Options{Hooks: []plan.Hook{hook("h1", plan.HookEvery, wall(time.Second), plan.Span{}), h2},
			Caller: rec, Context: &chain{}})
		err := s.Run(t.Context())
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want the hook's error", err)
		}
		if got, want := rec.got(), []string{"h1@1s", "h1@2s", "h2@2s"}; !slices.Equal(got, want) {
			t.Errorf("calls %v, want %v", got, want)
		}
	})
}

func TestCancelMidHookReturnsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		rec.slow["h1"] = time.Hour
		s, stop := start(t, rec, hook("h1", plan.HookAt, plan.Span{}, wall(time.Second)))
		time.Sleep(2 * time.Second)
		t0 := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("a cancelled run is not a hook failure: %v", err)
		}
		if d := time.Since(t0); d != 0 {
			t.Errorf("stop took %s", d)
		}
		if s.Stats().Calls["h1"] != 1 {
			t.Error("the hook was not called")
		}
	})
}

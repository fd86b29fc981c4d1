package feed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// chainSource serves a block tree and a movable tip.
type chainSource struct {
	blocks  map[string]*nodeapi.Block
	heights map[string]uint64
	tip     string
	down    bool
	fetches int
}

func newSource() *chainSource {
	s := &chainSource{blocks: map[string]*nodeapi.Block{}, heights: map[string]uint64{}}
	s.add("g", nodeapi.GenesisParent, 3) // the genesis ledger's notes: not counted
	return s
}

// add creates block id on parent with txs transactions.
func (s *chainSource) add(id, parent string, txs int) {
	h := uint64(0)
	if parent != nodeapi.GenesisParent {
		h = s.heights[parent] + 1
	}
	s.blocks[id] = &nodeapi.Block{Header: nodeapi.Header{Parent: parent, Slot: h}, Transactions: make([]nodeapi.Tx, txs)}
	s.heights[id] = h
	s.tip = id
}

func (s *chainSource) Info(context.Context) (nodeapi.Info, error) {
	if s.down {
		return nodeapi.Info{}, errors.New("connection refused")
	}
	return nodeapi.Info{Tip: s.tip, Height: s.heights[s.tip], Mode: "Online"}, nil
}

func (s *chainSource) Block(_ context.Context, id string) (*nodeapi.Block, error) {
	s.fetches++
	return s.blocks[id], nil
}

func record(f *Feed) *[]string {
	var got []string
	f.Subscribe(func(e Event) { got = append(got, fmt.Sprintf("%s:%s@%d", e.Kind, e.ID, e.Height)) })
	return &got
}

func TestFeedFollowsChainOnce(t *testing.T) {
	src := newSource()
	src.add("a1", "g", 1)
	src.add("a2", "a1", 2)
	f := New(map[string]Source{"n0": src}, nil)
	got := record(f)
	ctx := context.Background()
	f.Poll(ctx)
	f.Poll(ctx) // nothing new: no event, no refetch
	want := "added:g@0 added:a1@1 added:a2@2"
	if s := strings.Join(*got, " "); s != want {
		t.Fatalf("events = %q, want %q", s, want)
	}
	if src.fetches != 3 {
		t.Errorf("fetched %d blocks, want 3 (each once)", src.fetches)
	}
	src.add("a3", "a2", 1)
	f.Poll(ctx)
	if s := (*got)[len(*got)-1]; s != "added:a3@3" {
		t.Errorf("last event = %q, want added:a3@3", s)
	}
	st := f.Stats()
	if st.Height != 3 || st.Transactions != 4 || st.Orphaned != 0 {
		t.Errorf("stats = %+v, want height 3, 4 txs (genesis not counted), 0 orphaned", st)
	}
}

func TestFeedReportsAbandonedFork(t *testing.T) {
	src := newSource()
	src.add("a1", "g", 0)
	src.add("a2", "a1", 5)
	f := New(map[string]Source{"n0": src}, nil)
	got := record(f)
	ctx := context.Background()
	f.Poll(ctx)
	// The node reorganises onto a longer fork from a1.
	src.add("b2", "a1", 1)
	src.add("b3", "b2", 1)
	f.Poll(ctx)
	want := "added:g@0 added:a1@1 added:a2@2 orphaned:a2@2 added:b2@2 added:b3@3"
	if s := strings.Join(*got, " "); s != want {
		t.Fatalf("events = %q\nwant       %q", s, want)
	}
	st := f.Stats()
	if st.Transactions != 2 || st.Orphaned != 1 || st.Height != 3 {
		t.Errorf("stats = %+v, want 2 txs (orphaned block not counted), 1 orphaned, height 3", st)
	}
	if c := strings.Join(f.Canonical(), ","); c != "g,a1,b2,b3" {
		t.Errorf("canonical = %s", c)
	}
}

func TestFeedFollowsSeveralNodesAndTolerantOfDownNode(t *testing.T) {
	a, b := newSource(), newSource()
	a.add("x1", "g", 0)
	b.blocks, b.heights = a.blocks, a.heights // same store, different tips
	b.add("x2", "x1", 0)
	a.tip = "x1"
	a.down = true
	f := New(map[string]Source{"a": a, "b": b}, nil)
	if n := f.Poll(context.Background()); n != 1 {
		t.Fatalf("answered = %d, want 1", n)
	}
	nodes := f.Nodes()
	if nodes["a"].Err == nil || nodes["a"].Valid {
		t.Errorf("down node state = %+v, want an error", nodes["a"])
	}
	if f.Stats().Height != 2 {
		t.Errorf("height = %d, want 2 from node b", f.Stats().Height)
	}
}

func TestFeedTieKeepsCurrentChain(t *testing.T) {
	a, b := newSource(), newSource()
	a.add("a1", "g", 0)
	b.add("b1", "g", 0)
	f := New(map[string]Source{"a": a}, nil)
	f.Poll(context.Background())
	f.sources["b"], f.names = b, []string{"a", "b"}
	f.Poll(context.Background())
	if c := strings.Join(f.Canonical(), ","); c != "g,a1" {
		t.Errorf("canonical = %s, want g,a1 (equal height keeps current)", c)
	}
}

// BenchmarkFeedCatchUp measures a first catch-up over a 10,000-block chain
// with 10 transactions per block (in-memory source: feed overhead only).
func BenchmarkFeedCatchUp(b *testing.B) {
	src := newSource()
	prev := "g"
	for i := 1; i <= 10_000; i++ {
		id := fmt.Sprintf("b%d", i)
		src.add(id, prev, 10)
		prev = id
	}
	b.ReportAllocs()
	for b.Loop() {
		f := New(map[string]Source{"n0": src}, nil)
		n := 0
		f.Subscribe(func(Event) { n++ })
		f.Poll(context.Background())
		if n != 10_001 {
			b.Fatalf("events = %d", n)
		}
	}
	b.ReportMetric(float64(10_001*b.N)/b.Elapsed().Seconds(), "blocks/s")
}

// flaky fails Block calls after a number of successes.
type flaky struct {
	*chainSource
	left int
}

func (f *flaky) Block(ctx context.Context, id string) (*nodeapi.Block, error) {
	if f.left == 0 {
		return nil, errors.New("timeout")
	}
	f.left--
	return f.chainSource.Block(ctx, id)
}

func TestFeedResumesAnInterruptedWalk(t *testing.T) {
	src := newSource()
	for i := 1; i <= 6; i++ {
		src.add(fmt.Sprintf("b%d", i), map[bool]string{true: "g", false: fmt.Sprintf("b%d", i-1)}[i == 1], 1)
	}
	fl := &flaky{chainSource: src, left: 3}
	f := New(map[string]Source{"n0": fl}, nil)
	got := record(f)
	f.Poll(context.Background()) // fetches b6, b5, b4, then fails
	if len(*got) != 0 || f.Nodes()["n0"].Err == nil {
		t.Fatalf("events %v after a failed walk, want none and an error", *got)
	}
	fl.left = 100
	f.Poll(context.Background())
	if len(*got) != 7 || src.fetches != 7 {
		t.Errorf("events = %v after %d fetches, want the whole chain once with 7 fetches", *got, src.fetches)
	}
}

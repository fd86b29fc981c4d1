package history

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// addChain adds blocks prefix<from>..prefix<from+n-1> on top of parent.
func addChain(h *History, parent string, from uint64, n int, prefix string) {
	for i := range uint64(n) {
		id := fmt.Sprintf("%s%d", prefix, from+i)
		h.AddBlock(id, parent, from+i)
		parent = id
	}
}

// tree builds g0 <- a1..a10, with b4..b8 forking after a3 and c6..c7
// forking after a5.
func testTree() *History {
	h := New()
	h.AddBlock("g0", "", 0)
	addChain(h, "g0", 1, 10, "a")
	addChain(h, "a3", 4, 5, "b")
	addChain(h, "a5", 6, 2, "c")
	return h
}

func TestMissing(t *testing.T) {
	h := New()
	h.AddBlock("g0", "", 0)
	h.AddBlock("a1", "g0", 1)
	h.AddBlock("a3", "a2", 3) // a2 not fetched yet
	h.Observe("n1", sec(1), Observation{Height: 3, Tip: "a3", LIB: "a1", Mode: ModeOnline})
	h.Observe("n2", sec(1), Observation{Height: 4, Tip: "x4", LIB: "g0", Mode: ModeOnline})
	h.Observe("n3", sec(2), Observation{Height: 4, Tip: "x4", LIB: "y1", Mode: ModeOnline})
	if got, want := h.Missing(), []string{"a2", "x4", "y1"}; !slices.Equal(got, want) {
		t.Fatalf("Missing() = %q, want %q", got, want)
	}
	// Height knows added blocks only, not ids merely reported or named as a parent.
	if ht, ok := h.Height("a3"); !ok || ht != 3 {
		t.Errorf("Height(a3) = %d, %v; want 3, true", ht, ok)
	}
	for _, id := range []string{"a2", "x4", "nope"} {
		if _, ok := h.Height(id); ok {
			t.Errorf("Height(%s) known, want unknown", id)
		}
	}
	h.AddBlock("a2", "a1", 2)
	h.AddBlock("x4", "a3", 4)
	h.AddBlock("y1", "g0", 1)
	if got := h.Missing(); len(got) != 0 {
		t.Fatalf("Missing() after adding = %q, want none", got)
	}
}

func TestMissingBrokenHeights(t *testing.T) {
	h := New()
	h.AddBlock("g0", "", 0)
	h.AddBlock("a5", "g0", 5) // heights do not step by one: nothing to fetch
	h.Observe("n1", sec(1), Observation{Height: 5, Tip: "a5", LIB: "a5"})
	if got := h.Missing(); len(got) != 0 {
		t.Fatalf("Missing() = %q, want none", got)
	}
	if s := CheckSafety(h); len(s.Unplaced) != 1 || s.Unplaced[0].ID != "a5" {
		t.Fatalf("Unplaced = %+v, want a5", s.Unplaced)
	}
}

func TestSamplesStoredOnChange(t *testing.T) {
	h := New()
	o := Observation{Height: 7, Tip: "t", LIB: "l", Mode: ModeOnline}
	for i := range 100 {
		h.Observe("n1", sec(float64(i)), o)
	}
	for i := range 5 {
		h.Unreachable("n1", sec(float64(100+i)), "refused")
	}
	h.Observe("n1", sec(105), o)
	h.Observe("n1", sec(104), Observation{Height: 8, Tip: "u", LIB: "l", Mode: ModeOnline}) // late
	s := h.nodes["n1"]
	var at []time.Duration
	for _, x := range s.samples {
		at = append(at, x.at)
	}
	if want := []time.Duration{0, sec(100), sec(105), sec(105)}; !slices.Equal(at, want) {
		t.Fatalf("sample times = %v, want %v", at, want)
	}
	if s.polls != 107 || s.last != sec(105) {
		t.Fatalf("polls = %d, last = %v, want 107 and 1m45s", s.polls, s.last)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := testTree()
	var wg sync.WaitGroup
	for n := range 4 {
		wg.Go(func() {
			name := fmt.Sprintf("n%d", n)
			for i := range 10 {
				h.Observe(name, sec(float64(i)), Observation{Height: uint64(i), Tip: fmt.Sprintf("a%d", i), LIB: "g0", Mode: ModeOnline})
				h.Unreachable(name, sec(float64(i)+0.5), "timeout")
			}
		})
	}
	wg.Go(func() {
		h.AddRestart("n1", sec(3))
		h.AddFault("pause", []string{"n2"}, sec(1), sec(2))
		_ = h.Missing()
		_ = CheckSafety(h)
		_ = CheckLiveness(h, LivenessParams{Slot: sec(1), ActiveSlotCoeff: 1})
	})
	wg.Wait()
	if got := len(h.Nodes()); got != 4 {
		t.Fatalf("Nodes() has %d names, want 4", got)
	}
}

package history

import (
	"strings"
	"testing"
)

// poll observes node once a second from 0s to 45s with the given height.
// The window is 0s to 40s; polls after it are the evaluation.
func poll(h *History, node string, height func(t int) int) { pollAt(h, node, 0, height) }

// pollAt polls offset seconds after each second.
func pollAt(h *History, node string, offset float64, height func(t int) int) {
	for t := 0; t <= 45; t++ {
		h.Observe(node, sec(float64(t)+offset), Observation{Height: uint64(height(t)), Mode: ModeOnline})
	}
}

func steady(t int) int { return t }

// frozen returns a height that stays at from for t in [from, to).
func frozen(from, to int) func(int) int {
	return func(t int) int {
		if t >= from && t < to {
			return from
		}
		return t
	}
}

func TestCheckLiveness(t *testing.T) {
	tests := []struct {
		name      string
		build     func(h *History)
		tolerance float64
		stalls    map[string][]Stall
		want      []string // substrings of Err; none: Err is nil
	}{{
		name: "healthy",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", func(t int) int { return max(t-1, 0) })
		},
	}, {
		name: "network gains too little",
		build: func(h *History) {
			for _, n := range []string{"n1", "n2", "n3"} {
				poll(h, n, func(t int) int { return t / 4 })
			}
		},
		want: []string{"network gained 10 blocks in the window (height 0 to 10), below the target 32 of 40.0 expected"},
	}, {
		name: "a validator paused for the whole window does not stall",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", func(t int) int { return map[bool]int{true: 0, false: t}[t <= 40] })
			h.AddFault("pause", []string{"n3"}, 0, sec(40))
		},
	}, {
		name: "a network paused for the whole window fails the target, not as stalls",
		build: func(h *History) {
			for _, n := range []string{"n1", "n2", "n3"} {
				poll(h, n, func(t int) int { return map[bool]int{true: 0, false: t}[t <= 40] })
			}
			h.AddFault("pause", []string{"n1", "n2", "n3"}, 0, sec(40))
		},
		want: []string{"network gained 0 blocks in the window (height 0 to 0), below the target 32"},
	}, {
		name: "a stall outside any fault",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", frozen(5, 15))
		},
		stalls: map[string][]Stall{"n3": {{From: sec(5), To: sec(15), FromHeight: 5, ToHeight: 14, Node: "n3", Height: 5}}},
		want: []string{"n3: stalled at height 5 from 5.0s to 15.0s (10.0 block intervals, bound 8.0) " +
			"while the network grew from 5 to 14 (9 blocks); gained 40 in the window (target 32)"},
	}, {
		name: "a stall inside a fault window and its grace",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", frozen(5, 15))
			h.AddFault("partition", []string{"n3", "n2"}, sec(4), sec(8))
		},
	}, {
		name: "a stall outlasting a fault's grace",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", frozen(5, 30))
			h.AddFault("isolate", []string{"n3"}, sec(4), sec(6))
		},
		stalls: map[string][]Stall{"n3": {{From: sec(14), To: sec(30), FromHeight: 14, ToHeight: 29, Node: "n3", Height: 5}}},
		want:   []string{"n3: stalled at height 5 from 14.0s to 30.0s (16.0 block intervals"},
	}, {
		name: "a restart and its grace excuse a stall",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", frozen(5, 20))
			h.AddRestart("n3", sec(5))
		},
	}, {
		name: "a fault targeting another node excuses nothing",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", frozen(5, 20))
			h.AddFault("pause", []string{"n2"}, sec(4), sec(30))
		},
		stalls: map[string][]Stall{"n3": {{From: sec(5), To: sec(20), FromHeight: 5, ToHeight: 19, Node: "n3", Height: 5}}},
		want:   []string{"n3: stalled at height 5 from 5.0s to 20.0s"},
	}, {
		name: "a whole-network halt is not a per-node stall",
		build: func(h *History) {
			// n2 and n3 are polled a moment after n1 sees the network resume.
			for i, n := range []string{"n1", "n2", "n3"} {
				pollAt(h, n, 0.01*float64(i), func(t int) int { return min(t, 10) + max(t-20, 0) })
			}
		},
		tolerance: 0.5,
	}, {
		name: "a validator ends bootstrapping",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", steady)
			h.Observe("n3", sec(46), Observation{Height: 45, Mode: "Bootstrapping"})
		},
		want: []string{"n3: Bootstrapping at the end at height 45, best 45; gained 40 in the window (target 32)"},
	}, {
		name: "a validator ends unreachable",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", steady)
			h.Unreachable("n3", sec(46), "connection refused")
		},
		want: []string{"n3: unreachable at the end (connection refused); last height 45, best 45"},
	}, {
		name: "a validator never answers",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
		},
		stalls: map[string][]Stall{"n3": {{From: 0, To: sec(40), FromHeight: 0, ToHeight: 39, Node: "n3"}}},
		want: []string{
			"n3: unreachable at the end (never answered); last height 0, best 45; gained 0",
			"n3: stalled at height 0 from 0.0s to 40.0s",
		},
	}, {
		name: "a validator ends behind by more than the lag",
		build: func(h *History) {
			poll(h, "n1", steady)
			poll(h, "n2", steady)
			poll(h, "n3", func(t int) int { return max(t-5, 0) })
		},
		want: []string{"n3: height 40 at the end, 5 behind the best 45 (lag 2); gained 35 in the window (target 32)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New()
			h.SetWindow(0, sec(40))
			tt.build(h)
			p := LivenessParams{
				Validators: []string{"n1", "n2", "n3"}, Slot: sec(1), ActiveSlotCoeff: 1,
				Tolerance: 0.8, Lag: 2,
			}
			if tt.tolerance > 0 {
				p.Tolerance = tt.tolerance
			}
			l := CheckLiveness(h, p)
			if l.Target == 0 || l.MaxStall != sec(DefaultMaxStall) || len(l.Nodes) != 3 {
				t.Fatalf("target %d, max stall %v, %d nodes; want a target, 8s and 3 nodes", l.Target, l.MaxStall, len(l.Nodes))
			}
			for _, n := range l.Nodes {
				if got, want := n.Stalls, tt.stalls[n.Node]; !equalStalls(got, want) {
					t.Errorf("%s stalls = %+v, want %+v", n.Node, got, want)
				}
			}
			checkErr(t, l.Err(), tt.want)
		})
	}
}

func equalStalls(a, b []Stall) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCheckLivenessHeights(t *testing.T) {
	h := New()
	h.SetWindow(sec(10), sec(30))
	poll(h, "n1", steady)
	// n2 answers first at 15s: its height at the start is its first answer.
	for s := 15; s <= 35; s++ {
		h.Observe("n2", sec(float64(s)), Observation{Height: uint64(s - 3), Mode: ModeOnline})
	}
	l := CheckLiveness(h, LivenessParams{Slot: sec(2), ActiveSlotCoeff: 0.5, Tolerance: 0.5, Lag: 2})
	if l.Expected != 5 || l.Target != 3 || l.Interval != sec(4) || l.MaxStall != sec(32) {
		t.Fatalf("expected %v, target %d, interval %v, max stall %v; want 5, 3, 4s, 32s", l.Expected, l.Target, l.Interval, l.MaxStall)
	}
	if l.NetworkStart != 12 || l.NetworkEnd != 30 || l.NetworkGained != 18 || l.Best != 45 {
		t.Fatalf("network %d to %d (+%d), best %d; want 12 to 30 (+18), best 45", l.NetworkStart, l.NetworkEnd, l.NetworkGained, l.Best)
	}
	n2 := l.Nodes[1]
	if n2.Node != "n2" || n2.Start != 12 || n2.End != 27 || n2.Gained != 15 || n2.Final != 32 || n2.Behind != 13 {
		t.Fatalf("n2 progress = %+v, want start 12, end 27, gained 15, final 32, behind 13", n2)
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "n2: height 32 at the end, 13 behind the best 45") {
		t.Fatalf("Err() = %v, want n2 behind", err)
	}
}

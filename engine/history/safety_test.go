package history

import (
	"fmt"
	"strings"
	"testing"
)

// libs records node reporting each LIB in turn, one a second from start.
func libs(h *History, node string, start float64, ids ...string) {
	for i, id := range ids {
		h.Observe(node, sec(start+float64(i)), Observation{Tip: id, LIB: id, Mode: ModeOnline})
	}
}

func TestCheckSafety(t *testing.T) {
	tests := []struct {
		name                            string
		build                           func(h *History)
		conflicts, reversions, unplaced int
		want                            []string // substrings of Err; none: Err is nil
	}{{
		name: "healthy",
		build: func(h *History) {
			libs(h, "n1", 1, "g0", "a1", "a2", "a5")
			libs(h, "n2", 1.5, "a1", "a4", "a6")
			libs(h, "n3", 0, "a3", "a3", "a3")
		},
	}, {
		name: "conflicting LIBs seen by different nodes at different times",
		build: func(h *History) {
			libs(h, "n1", 9, "a3", "a5", "a6")
			libs(h, "n2", 19, "a3", "b5")
		},
		conflicts: 1,
		want: []string{
			"n1 LIB a5 (height 5, seen at 10.0s) and n2 LIB b5 (height 5, seen at 20.0s) are on different chains",
		},
	}, {
		name: "a node pair is reported once, for its earliest sightings",
		build: func(h *History) {
			libs(h, "n1", 1, "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10")
			libs(h, "n2", 10, "b4", "b5", "b6", "b7", "b8")
		},
		conflicts: 1,
		want:      []string{"n1 LIB a4 (height 4, seen at 2.0s) and n2 LIB b4 (height 4, seen at 10.0s)"},
	}, {
		name: "LIB moves to a block that does not descend from it",
		build: func(h *History) {
			libs(h, "n1", 1, "a3", "a5", "a6")
			libs(h, "n2", 1, "a4", "b5", "b6")
		},
		conflicts: 1, reversions: 1,
		want: []string{"n2 LIB moved from a4 (height 4, seen at 1.0s) to b5 (height 5, seen at 2.0s), which does not descend from it"},
	}, {
		name: "LIB moves back along its chain without a restart",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "a3", "a4", "a6")
		},
		reversions: 1,
		want:       []string{"n1 LIB moved back from a5 (height 5, seen at 1.0s) to its ancestor a3 (height 3, seen at 2.0s) with no restart in between"},
	}, {
		name: "LIB moves back after a restart",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "g0", "a1", "a3", "a5", "a6")
			h.AddRestart("n1", sec(1.5))
		},
	}, {
		name: "LIB moves back after a kill fault's restart",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "g0", "a4", "a7")
			h.AddFault("kill", []string{"n1"}, sec(1.2), sec(1.7))
		},
	}, {
		name: "a restart before the earlier LIB excuses nothing",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "a3")
			h.AddRestart("n1", sec(0.5))
			h.AddFault("pause", []string{"n1"}, sec(1.2), sec(1.7))
		},
		reversions: 1,
		want:       []string{"moved back from a5"},
	}, {
		name: "LIB moves back again while climbing after a restart",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "g0", "a3", "a2", "a6")
			h.AddRestart("n1", sec(1.5))
		},
		reversions: 1,
		want:       []string{"n1 LIB moved back from a3 (height 3, seen at 3.0s) to its ancestor a2 (height 2, seen at 4.0s)"},
	}, {
		name: "a restart does not excuse a LIB on another branch",
		build: func(h *History) {
			libs(h, "n1", 1, "a5", "g0", "b5")
			libs(h, "n2", 1, "a7")
			h.AddRestart("n1", sec(1.5))
		},
		conflicts: 1, reversions: 1,
		want: []string{"n1 LIB moved from a5 (height 5, seen at 1.0s) to b5 (height 5, seen at 3.0s)"},
	}, {
		name: "LIB not in the tree is unplaced, not a conflict",
		build: func(h *History) {
			libs(h, "n1", 1, "a3", "zz", "a4")
			libs(h, "n2", 1, "zz")
			h.AddBlock("q9", "q8", 9)
			libs(h, "n3", 1, "q9")
		},
		unplaced: 2,
	}, {
		name: "long lists are capped",
		build: func(h *History) {
			for i := range 20 {
				libs(h, fmt.Sprintf("n%02d", i), float64(i), "a6")
			}
			for i := range 12 {
				libs(h, fmt.Sprintf("m%02d", i), 30, "b5")
			}
		},
		conflicts: 12,
		want:      []string{"n00 LIB a6 (height 6, seen at 0.0s) and m00 LIB b5", "and 2 more"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testTree()
			tt.build(h)
			s := CheckSafety(h)
			if len(s.Conflicts) != tt.conflicts || len(s.Reversions) != tt.reversions || len(s.Unplaced) != tt.unplaced {
				t.Fatalf("got %d conflicts, %d reversions, %d unplaced; want %d, %d, %d\n%+v",
					len(s.Conflicts), len(s.Reversions), len(s.Unplaced), tt.conflicts, tt.reversions, tt.unplaced, s)
			}
			if s.LIBs == 0 {
				t.Errorf("LIBs = 0, want the sightings counted")
			}
			checkErr(t, s.Err(), tt.want)
		})
	}
}

func TestCheckSafetyCountsDistinctSightings(t *testing.T) {
	h := testTree()
	libs(h, "n1", 1, "a1", "a2", "a1", "a2")
	libs(h, "n2", 1, "a1")
	if s := CheckSafety(h); s.LIBs != 3 {
		t.Fatalf("LIBs = %d, want 3 distinct (node, LIB) sightings", s.LIBs)
	}
}

// checkErr asserts that err is nil when want is empty, else that it holds
// every text of want.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("Err() = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Err() = nil, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Err() = %v\nwant it to contain %q", err, w)
		}
	}
}

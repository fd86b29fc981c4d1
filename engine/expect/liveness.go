package expect

import (
	"context"
	"fmt"

	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// Liveness judges the recorded history of the validators (see
// history.CheckLiveness): (a) the network gained ceil(Tolerance × expected)
// blocks inside the run window, expected from the window's length and the
// protocol parameters; (b) at evaluation every validator answers, is Online
// and within Lag blocks of the best height; (c) no validator stalled inside
// the window for longer than MaxStall expected block intervals outside the
// faults that target it. The cooldown lets nodes catch up for (b); it never
// counts as progress for (a).
type Liveness struct {
	Tolerance float64
	Lag       int
	// MaxStall is the stall bound in expected block intervals; 0 means
	// history.DefaultMaxStall.
	MaxStall float64
}

// Default liveness parameters (the scenario builtin's defaults).
const (
	DefaultTolerance = 0.8
	DefaultLag       = 2
	infoTries        = 3
)

// LivenessEvidence is what liveness judged, times in seconds since the run
// started.
type LivenessEvidence struct {
	WindowStart   float64        `json:"window_start_s"`
	WindowEnd     float64        `json:"window_end_s"`
	Expected      float64        `json:"expected_blocks"`
	Target        uint64         `json:"target"`
	NetworkStart  uint64         `json:"network_start"`
	NetworkEnd    uint64         `json:"network_end"`
	NetworkGained uint64         `json:"network_gained"`
	Best          uint64         `json:"best_final_height"`
	Lag           int            `json:"lag"`
	MaxStall      float64        `json:"max_stall_s"`
	Nodes         []NodeEvidence `json:"nodes"`
}

// NodeEvidence is one validator's progress.
type NodeEvidence struct {
	Node      string          `json:"node"`
	Start     uint64          `json:"start"`
	End       uint64          `json:"end"`
	Gained    uint64          `json:"gained"`
	Final     uint64          `json:"final"`
	Behind    uint64          `json:"behind"`
	Mode      string          `json:"mode"`
	Reachable bool            `json:"reachable"`
	Stalls    []StallEvidence `json:"stalls,omitempty"`
}

// StallEvidence is one stall: from/to in seconds and the network's best
// height at each end.
type StallEvidence struct {
	From       float64 `json:"from_s"`
	To         float64 `json:"to_s"`
	FromHeight uint64  `json:"network_from"`
	ToHeight   uint64  `json:"network_to"`
	Height     uint64  `json:"height"`
}

// Evaluate implements Expectation.
func (l *Liveness) Evaluate(_ context.Context, env *Env) (Verdict, error) {
	if env.History == nil {
		return Verdict{}, noSamples("no run history was recorded")
	}
	tol, lag := l.Tolerance, l.Lag
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if lag < 0 {
		lag = DefaultLag
	}
	var validators []string
	for _, n := range env.Nodes {
		if n.Role == plan.RoleValidator {
			validators = append(validators, n.Name)
		}
	}
	t := env.Plan.Topology
	res := history.CheckLiveness(env.History, history.LivenessParams{Validators: validators, Slot: t.Slot.Std(),
		ActiveSlotCoeff: t.ActiveSlotCoeff, Tolerance: tol, Lag: lag, MaxStall: l.MaxStall})
	answered := false
	for _, n := range res.Nodes {
		answered = answered || n.Reachable || n.Final > 0 || n.Mode != ""
	}
	if !answered {
		return Verdict{}, noSamples("no validator ever answered")
	}
	ev := livenessEvidence(res)
	v := Verdict{Evidence: ev, Summary: fmt.Sprintf(
		"window %.1fs-%.1fs: network %d -> %d (+%d blocks), target %d (%.0f%% of %.1f expected); best final height %d, lag %d, stall bound %.1fs",
		ev.WindowStart, ev.WindowEnd, ev.NetworkStart, ev.NetworkEnd, ev.NetworkGained, ev.Target, tol*100, ev.Expected,
		ev.Best, ev.Lag, ev.MaxStall)}
	if err := res.Err(); err != nil {
		return v, err
	}
	return v, nil
}

func livenessEvidence(l history.Liveness) LivenessEvidence {
	ev := LivenessEvidence{WindowStart: l.Start.Seconds(), WindowEnd: l.End.Seconds(), Expected: l.Expected, Target: l.Target,
		NetworkStart: l.NetworkStart, NetworkEnd: l.NetworkEnd, NetworkGained: l.NetworkGained, Best: l.Best, Lag: l.Lag,
		MaxStall: l.MaxStall.Seconds(), Nodes: []NodeEvidence{}}
	for _, n := range l.Nodes {
		ne := NodeEvidence{Node: n.Node, Start: n.Start, End: n.End, Gained: n.Gained, Final: n.Final, Behind: n.Behind,
			Mode: n.Mode, Reachable: n.Reachable}
		for _, s := range n.Stalls {
			ne.Stalls = append(ne.Stalls, StallEvidence{From: s.From.Seconds(), To: s.To.Seconds(),
				FromHeight: s.FromHeight, ToHeight: s.ToHeight, Height: s.Height})
		}
		ev.Nodes = append(ev.Nodes, ne)
	}
	return ev
}

package history

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// DefaultMaxStall is the stall bound, in expected block intervals, used
// when LivenessParams.MaxStall is zero. It is also the catch-up grace after
// a fault or restart. Block production is a Poisson process, so a gap of
// eight intervals has odds of about e^-8 (1 in 3000) for a healthy node.
const DefaultMaxStall = 8

// LivenessParams parameterise CheckLiveness. The caller applies the
// scenario's defaults; the values are taken as given.
type LivenessParams struct {
	// Validators are the judged nodes; empty means every polled node.
	Validators []string
	// Slot and ActiveSlotCoeff give the expected blocks in the window,
	// window / Slot × ActiveSlotCoeff, and the block interval, Slot /
	// ActiveSlotCoeff. Without them no blocks are expected and no stall is
	// judged.
	Slot            time.Duration
	ActiveSlotCoeff float64
	// Tolerance: the network must gain ceil(Tolerance × expected) blocks.
	Tolerance float64
	// Lag: at evaluation every validator is within Lag of the best height;
	// below 0 it is 0.
	Lag int
	// MaxStall bounds a stall in block intervals; 0 means DefaultMaxStall.
	MaxStall float64
}

// Stall is a part of the window during which a node's height stayed put
// while the network's best height grew past it.
type Stall struct {
	From, To time.Duration
	// FromHeight and ToHeight are the network's best height at From and
	// just before To.
	FromHeight, ToHeight uint64
	Node                 string
	// Height is the node's height during the stall.
	Height uint64
}

// NodeProgress is one validator's progress.
type NodeProgress struct {
	Node string
	// Start, End and Final are the node's height at the window's start, at
	// its end, and at the node's last answered poll.
	Start, End, Final uint64
	// Gained is End - Start.
	Gained uint64
	// Mode is the mode of the node's last answered poll.
	Mode string
	// Reachable: the node answered its last poll.
	Reachable bool
	// Error is the last poll's error when the node was not reachable.
	Error string
	// Behind is the best final height minus Final.
	Behind uint64
	Stalls []Stall
}

// Liveness is the verdict of CheckLiveness.
type Liveness struct {
	Start, End time.Duration
	// Expected is the number of blocks expected in the window; Target is
	// ceil(Tolerance × Expected).
	Expected float64
	Target   uint64
	// NetworkStart and NetworkEnd are the best validator height at the
	// window's start and end.
	NetworkStart, NetworkEnd, NetworkGained uint64
	// Best is the best final height over the validators.
	Best uint64
	Lag  int
	// Interval is the expected block interval; MaxStall is the stall bound
	// and the catch-up grace.
	Interval time.Duration
	MaxStall time.Duration
	Nodes    []NodeProgress
}

// CheckLiveness judges the validators' progress; see the package doc.
func CheckLiveness(h *History, p LivenessParams) Liveness {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := Liveness{Start: h.start, End: h.end, Lag: max(p.Lag, 0)}
	if !h.window {
		l.Start, l.End = 0, 0
		for _, s := range h.nodes {
			l.End = max(l.End, s.last)
		}
	}
	if p.Slot > 0 && p.ActiveSlotCoeff > 0 {
		l.Expected = float64(l.End-l.Start) / float64(p.Slot) * p.ActiveSlotCoeff
		l.Interval = time.Duration(float64(p.Slot) / p.ActiveSlotCoeff)
	}
	// The epsilon keeps float noise (0.8 × 10 = 8.000…01) off the target.
	l.Target = uint64(max(0, math.Ceil(p.Tolerance*l.Expected-1e-9)))
	bound := p.MaxStall
	if bound <= 0 {
		bound = DefaultMaxStall
	}
	l.MaxStall = time.Duration(bound * float64(l.Interval))
	names := p.Validators
	if len(names) == 0 {
		names = h.nodeNames()
	}
	ss := make([]*series, len(names))
	for i, n := range names {
		if ss[i] = h.nodes[n]; ss[i] == nil {
			ss[i] = &series{name: n} // never polled: unreachable
		}
	}
	best := bestSteps(ss)
	l.NetworkStart, l.NetworkEnd = best.at(l.Start), best.at(l.End)
	l.NetworkGained = sub(l.NetworkEnd, l.NetworkStart)
	for _, s := range ss {
		np := NodeProgress{Node: s.name, Error: s.lastErr}
		np.Start, _ = s.heightAt(l.Start)
		np.End, _ = s.heightAt(l.End)
		np.Gained = sub(np.End, np.Start)
		if x, ok := s.lastAnswer(); ok {
			np.Final, np.Mode = x.height, h.modes[x.mode]
		}
		np.Reachable = len(s.samples) > 0 && !s.samples[len(s.samples)-1].down
		if np.Reachable {
			np.Error = ""
		} else if np.Error == "" {
			np.Error = "never answered"
		}
		if l.Interval > 0 {
			np.Stalls = l.stalls(s, h.excused(s.name, l.MaxStall), best)
		}
		l.Best = max(l.Best, np.Final)
		l.Nodes = append(l.Nodes, np)
	}
	for i := range l.Nodes {
		l.Nodes[i].Behind = sub(l.Best, l.Nodes[i].Final)
	}
	return l
}

// Err returns nil when the network reached the target, every validator
// ended reachable, Online and within Lag of the best height, and none
// stalled; else one line per problem.
func (l Liveness) Err() error {
	var lines []string
	if l.NetworkGained < l.Target {
		lines = append(lines, fmt.Sprintf("network gained %d blocks in the window (height %d to %d), below the target %d of %.1f expected",
			l.NetworkGained, l.NetworkStart, l.NetworkEnd, l.Target, l.Expected))
	}
	for _, n := range l.Nodes {
		gained := fmt.Sprintf("gained %d in the window (target %d)", n.Gained, l.Target)
		switch {
		case !n.Reachable:
			lines = append(lines, fmt.Sprintf("%s: unreachable at the end (%s); last height %d, best %d; %s",
				n.Node, n.Error, n.Final, l.Best, gained))
		case n.Mode != ModeOnline:
			lines = append(lines, fmt.Sprintf("%s: %s at the end at height %d, best %d; %s",
				n.Node, modeText(n.Mode), n.Final, l.Best, gained))
		case n.Behind > uint64(l.Lag):
			lines = append(lines, fmt.Sprintf("%s: height %d at the end, %d behind the best %d (lag %d); %s",
				n.Node, n.Final, n.Behind, l.Best, l.Lag, gained))
		}
		for i, s := range n.Stalls {
			if i == maxStallLines {
				lines = append(lines, fmt.Sprintf("%s: and %d more stalls", n.Node, len(n.Stalls)-i))
				break
			}
			lines = append(lines, fmt.Sprintf("%s: stalled at height %d from %s to %s (%.1f block intervals, bound %.1f) while the network grew from %d to %d (%d blocks); %s",
				n.Node, s.Height, secs(s.From), secs(s.To), l.blocks(s.To-s.From), l.blocks(l.MaxStall),
				s.FromHeight, s.ToHeight, sub(s.ToHeight, s.FromHeight), gained))
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("consensus liveness violated (window %s to %s, %.1f blocks expected, target %d):\n- %s",
		secs(l.Start), secs(l.End), l.Expected, l.Target, strings.Join(lines, "\n- "))
}

// maxStallLines caps the stalls listed per node in an error message.
const maxStallLines = 3

func (l Liveness) blocks(d time.Duration) float64 {
	if l.Interval <= 0 {
		return 0
	}
	return float64(d) / float64(l.Interval)
}

func modeText(m string) string {
	if m == "" {
		return "no mode"
	}
	return m
}

// stalls finds s's stalls inside the window.
func (l Liveness) stalls(s *series, excused []span, best steps) []Stall {
	var out []Stall
	flat := func(a, b time.Duration) {
		if b-a <= l.MaxStall {
			return
		}
		for _, p := range subtract(span{a, b}, excused) {
			if p.to-p.from <= l.MaxStall {
				continue
			}
			height, _ := s.heightAt(p.from)
			from, to := best.at(p.from), best.at(p.to-1) // the network while the node sat
			if to <= from {
				continue // the whole network halted: the target's business
			}
			if passed := best.passed(height, p.from, p.to); p.to-passed <= l.MaxStall {
				continue // left behind only briefly, e.g. polled just after the others resumed
			}
			out = append(out, Stall{From: p.from, To: p.to, FromHeight: from, ToHeight: to, Node: s.name, Height: height})
		}
	}
	a := l.Start
	var prev uint64
	have := false
	for _, x := range s.samples {
		if x.down {
			continue
		}
		if x.at >= l.End {
			break
		}
		if have && x.height > prev && x.at > l.Start {
			flat(a, x.at)
			a = x.at
		}
		prev, have = x.height, true
	}
	flat(a, l.End)
	return out
}

// span is a time interval [from, to].
type span struct{ from, to time.Duration }

// excused returns the merged spans when node may lag: each fault window
// targeting it and each restart, extended by grace.
func (h *History) excused(node string, grace time.Duration) []span {
	var out []span
	for _, f := range h.faults {
		if !slices.Contains(f.nodes, node) {
			continue
		}
		to := time.Duration(math.MaxInt64)
		if f.to >= f.from {
			to = f.to + grace
		}
		out = append(out, span{f.from, to})
	}
	for _, r := range h.restarts {
		if r.node == node {
			out = append(out, span{r.at, r.at + grace})
		}
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	merged := out[:0]
	for _, s := range out {
		if n := len(merged); n > 0 && s.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, s.to)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// subtract returns the parts of s outside the sorted, disjoint spans.
func subtract(s span, spans []span) []span {
	var out []span
	for _, e := range spans {
		if e.to <= s.from || e.from >= s.to {
			continue
		}
		if e.from > s.from {
			out = append(out, span{s.from, e.from})
		}
		s.from = e.to
		if s.from >= s.to {
			return out
		}
	}
	return append(out, s)
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

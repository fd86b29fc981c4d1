package expect

import (
	"context"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// Agreement checks safety over the whole recorded history (see
// history.CheckSafety): no two LIBs ever reported, by any nodes at any
// times, are on different chains, and no node's LIB ever moves to a block
// that does not descend from its earlier LIB. It also checks the end state,
// read from the nodes at evaluation: two nodes agree when their LIBs have
// the same height and id, or when the lower LIB is an ancestor of the
// higher one.
type Agreement struct{}

type libSample struct {
	node   string
	client nodeclient.Client
	lib    string
	height uint64
}

// libOf reads a node's LIB and its height: the headers route lists tip to
// LIB, so the LIB height is the tip height minus the walk length.
func libOf(ctx context.Context, env *Env, n nodeclient.Node) (libSample, error) {
	s := libSample{node: n.Name, client: n.Client}
	info, err := retry(ctx, env, infoTries, func() (nodeapi.Info, error) { return n.Client.Info(ctx) })
	if err != nil {
		return s, err
	}
	ids, err := n.Client.Headers(ctx, info.Tip, "")
	if err != nil {
		return s, err
	}
	s.lib = info.LIB
	switch {
	case len(ids) > 0 && ids[len(ids)-1] == info.LIB && len(ids)-1 <= int(info.Height):
		s.height = info.Height - uint64(len(ids)-1)
		return s, nil
	case env.Feed != nil:
		if _, h, ok := env.Feed.Lookup(info.LIB); ok {
			s.height = h
			return s, nil
		}
	}
	return s, fmt.Errorf("cannot place LIB %s: not at the end of the headers walk and not seen by the block feed", short(info.LIB))
}

// ancestorAt walks parents from id (at height h) down to height target
// with the node's block route.
func ancestorAt(ctx context.Context, c nodeclient.Client, id string, h, target uint64) (string, error) {
	for h > target {
		b, err := c.Block(ctx, id)
		if err != nil {
			return "", err
		}
		if b == nil {
			return "", fmt.Errorf("block %s unknown", short(id))
		}
		id, h = b.Header.Parent, h-1
	}
	return id, nil
}

// SafetyEvidence is what agreement judged.
type SafetyEvidence struct {
	// LIBs counts the distinct (node, LIB) sightings of the history.
	LIBs       int                 `json:"libs_checked"`
	Conflicts  []history.Conflict  `json:"conflicts,omitempty"`
	Reversions []history.Reversion `json:"reversions,omitempty"`
	Unplaced   []history.Sighting  `json:"unplaced,omitempty"`
	// End is every node's LIB at evaluation.
	End []EndLIB `json:"end"`
}

// EndLIB is one node's LIB at evaluation.
type EndLIB struct {
	Node   string `json:"node"`
	LIB    string `json:"lib"`
	Height uint64 `json:"height"`
}

// Evaluate implements Expectation.
func (*Agreement) Evaluate(ctx context.Context, env *Env) (Verdict, error) {
	if env.History == nil {
		return Verdict{}, noSamples("no run history was recorded")
	}
	samples, conflicts, issues := endState(ctx, env)
	if len(samples) == 0 {
		return Verdict{}, noSamples("no node reported its LIB: %s", strings.Join(issues, "; "))
	}
	safety := history.CheckSafety(env.History)
	ev := SafetyEvidence{LIBs: safety.LIBs, Conflicts: safety.Conflicts, Reversions: safety.Reversions,
		Unplaced: safety.Unplaced, End: []EndLIB{}}
	for _, s := range samples {
		ev.End = append(ev.End, EndLIB{Node: s.node, LIB: s.lib, Height: s.height})
	}
	v := Verdict{Evidence: ev, Summary: fmt.Sprintf(
		"%d LIB sightings over the run: %d conflicting pair(s), %d reversion(s), %d unplaced; %d node(s) compared at the end",
		safety.LIBs, len(safety.Conflicts), len(safety.Reversions), len(safety.Unplaced), len(samples))}
	// The history's conflicts and reversions, then the end state's.
	var lines []string
	if safety.Err() != nil {
		lines = safety.Problems()
	}
	lines = append(lines, conflicts...)
	if len(lines) > 0 {
		return v, fmt.Errorf("consensus agreement violated (%d LIB sightings over the run, and the LIBs at the end):\n- %s",
			safety.LIBs, strings.Join(append(lines, issues...), "\n- "))
	}
	for _, u := range safety.Unplaced {
		issues = append(issues, fmt.Sprintf("%s reported LIB %s at %.1fs, a block no node could give", u.Node, short(u.ID), u.At.Seconds()))
	}
	if len(issues) > 0 {
		return v, fmt.Errorf("consensus agreement could not be checked:\n- %s", strings.Join(issues, "\n- "))
	}
	return v, nil
}

// endState reads every node's LIB now and compares them: it returns the
// LIBs read, the conflicts found and the nodes that could not be read.
func endState(ctx context.Context, env *Env) (samples []libSample, conflicts, issues []string) {
	for _, n := range env.Nodes {
		s, err := libOf(ctx, env, n)
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		samples = append(samples, s)
	}
	if len(samples) == 0 {
		return nil, nil, issues
	}
	// Compare every node with the node holding the highest LIB, then every
	// pair at equal height, so each conflict is named once.
	top := samples[0]
	for _, s := range samples[1:] {
		if s.height > top.height {
			top = s
		}
	}
	for _, s := range samples {
		if s.node == top.node {
			continue
		}
		if s.height == top.height {
			if s.lib != top.lib {
				conflicts = append(conflicts, fmt.Sprintf("%s and %s disagree on the LIB at height %d: %s vs %s",
					top.node, s.node, s.height, short(top.lib), short(s.lib)))
			}
			continue
		}
		anc, err := ancestorAt(ctx, top.client, top.lib, top.height, s.height)
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s: walk back from LIB %s: %v", top.node, short(top.lib), err))
			continue
		}
		if anc != s.lib {
			conflicts = append(conflicts, fmt.Sprintf("%s LIB %s (height %d) is not on %s's chain (%s has %s at height %d)",
				s.node, short(s.lib), s.height, top.node, top.node, short(anc), s.height))
		}
	}
	return samples, conflicts, issues
}

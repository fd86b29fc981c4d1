package expect

import (
	"context"
	"fmt"
	"strings"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
)

// Agreement checks safety: no two nodes hold conflicting last immutable
// blocks. Two nodes agree when their LIBs have the same height and id, or
// when the lower LIB is an ancestor of the higher one.
type Agreement struct{}

// Capture implements Expectation.
func (*Agreement) Capture(*Env) {}

type libSample struct {
	node   string
	client nodeclient.Client
	lib    string
	height uint64
}

// libOf reads a node's LIB and its height: the headers route lists tip to
// LIB, so the LIB height is the tip height minus the walk length.
func libOf(ctx context.Context, env *Env, n Node) (libSample, error) {
	s := libSample{node: n.Name, client: n.Client}
	info, err := retry(ctx, env, infoTries, func() (nodeclient.Info, error) { return n.Client.Info(ctx) })
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

// Evaluate implements Expectation.
func (*Agreement) Evaluate(ctx context.Context, env *Env) error {
	var samples []libSample
	var issues []string
	for _, n := range env.Nodes {
		s, err := libOf(ctx, env, n)
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		samples = append(samples, s)
	}
	if len(samples) == 0 {
		return noSamples("no node reported its LIB: %s", strings.Join(issues, "; "))
	}
	// Compare every node with the node holding the highest LIB, then every
	// pair at equal height, so each conflict is named once.
	top := samples[0]
	for _, s := range samples[1:] {
		if s.height > top.height {
			top = s
		}
	}
	var conflicts []string
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
	if len(conflicts) > 0 {
		return fmt.Errorf("consensus agreement violated:\n- %s", strings.Join(append(conflicts, issues...), "\n- "))
	}
	if len(issues) > 0 {
		return fmt.Errorf("consensus agreement could not be checked:\n- %s", strings.Join(issues, "\n- "))
	}
	return nil
}

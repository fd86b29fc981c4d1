package expect

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// Liveness checks that every validator made progress: the best height must
// reach ceil(Tolerance × expected blocks), and no validator may trail
// min(expected, best height) by more than Lag blocks.
type Liveness struct {
	Tolerance float64
	Lag       int
}

// Default liveness parameters (the scenario builtin's defaults).
const (
	DefaultTolerance = 0.8
	DefaultLag       = 2
	infoTries        = 3
)

// Capture implements Expectation; liveness samples at evaluation.
func (l *Liveness) Capture(*Env) {}

type heightSample struct {
	node   string
	height uint64
	tip    string
}

// Evaluate implements Expectation.
func (l *Liveness) Evaluate(ctx context.Context, env *Env) error {
	tol, lag := l.Tolerance, l.Lag
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if lag < 0 {
		lag = DefaultLag
	}
	var samples []heightSample
	var issues []string
	for _, n := range env.Nodes {
		if n.Role != plan.RoleValidator {
			continue
		}
		info, err := retry(ctx, env, infoTries, func() (nodeclient.Info, error) { return n.Client.Info(ctx) })
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s consensus_info failed: %v", n.Name, err))
			continue
		}
		samples = append(samples, heightSample{n.Name, info.Height, info.Tip})
	}
	if len(samples) == 0 {
		msg := "no validator answered"
		if len(issues) > 0 {
			msg += ": " + strings.Join(issues, "; ")
		}
		return noSamples("%s", msg)
	}
	expected := uint64(env.Plan.Derived.ExpectedBlocks)
	required := uint64(math.Ceil(tol * float64(expected)))
	var maxH uint64
	for _, s := range samples {
		maxH = max(maxH, s.height)
	}
	if maxH < required {
		issues = append(issues, fmt.Sprintf("network height %d below target %d (%.0f%% of %d expected blocks)",
			maxH, required, tol*100, expected))
	}
	target := min(expected, maxH)
	if target == 0 {
		target = maxH
	}
	for _, s := range samples {
		if s.height+uint64(lag) < target {
			issues = append(issues, fmt.Sprintf("%s height %d below target %d", s.node, s.height, target))
		}
	}
	if len(issues) == 0 {
		return nil
	}
	var best []string
	for _, s := range samples {
		if s.height == maxH {
			best = append(best, fmt.Sprintf("%s (height=%d, tip=%s)", s.node, s.height, short(s.tip)))
		}
	}
	return fmt.Errorf("consensus liveness violated (target=%d):\nmax_height node(s): %s\n- %s",
		target, strings.Join(best, ", "), strings.Join(issues, "\n- "))
}

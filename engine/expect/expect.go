// Package expect holds the checks evaluated after a run: liveness, tx and DA
// inclusion, consensus agreement (safety), metric thresholds, log patterns
// and custom Starlark expectations.
//
// Each expectation may capture while the run is driven (subscribing to the
// block feed) and is evaluated once, after cooldown. Evaluate returns the
// figures it judged (a Verdict) and, on failure, an error whose text is the
// failure message. An expectation that observed nothing fails with a "no
// samples" message: nothing ever passes vacuously.
package expect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/history"
	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// TxSource describes what the transaction workload submitted.
type TxSource interface {
	// Planned is the number of transactions the workload plans to submit.
	Planned() int
	// Tracked reports whether an output public key belongs to a workload tx.
	Tracked(pk string) bool
}

// DASource describes what the DA workload planned.
type DASource interface {
	// Channels are the channel ids the workload inscribes.
	Channels() []string
	// PlannedBlobs is the number of blobs the workload plans to disperse.
	PlannedBlobs() int
}

// CustomFunc evaluates a custom Starlark expectation named fn against a
// read-only snapshot; it returns whether it passed and a message.
type CustomFunc func(ctx context.Context, fn string, snapshot map[string]any) (bool, string, error)

// Env is what expectations observe.
type Env struct {
	Plan  *plan.Plan
	Nodes []nodeclient.Node
	Feed  *feed.Feed
	// History is what the run observed, complete at evaluation.
	History *history.History
	// Tx and DA are nil when the plan has no such workload.
	Tx TxSource
	DA DASource
	// LogDir holds the collected node logs (<node>.log); empty when the
	// runner cannot collect logs.
	LogDir string
	// Metrics answers metric queries; nil reads the nodes' /metrics.
	Metrics metrics.Querier
	// Custom evaluates custom expectations; nil when none can be.
	Custom CustomFunc
	// Snapshot builds the snapshot handed to custom expectations.
	Snapshot func() map[string]any
	// RetryDelay spaces retries of node calls (default 1 s).
	RetryDelay time.Duration
	// CatchUp bounds the wait for late inclusions at evaluation.
	CatchUp time.Duration
}

// Expectation is one check.
type Expectation interface {
	// Evaluate checks the expectation after the run. The verdict carries
	// the numbers judged, on success and on failure alike.
	Evaluate(ctx context.Context, env *Env) (Verdict, error)
}

// Capturer is an expectation that observes from before the workloads
// start (for example the chain height its inclusion window opens at).
type Capturer interface {
	// Capture starts observing; it is called before workloads start.
	Capture(env *Env)
}

// Verdict is the evidence of one evaluation: what was measured and
// against what, so a reader can check the judgement, not just its outcome.
type Verdict struct {
	// Summary is one line of the figures judged, for the terminal and JUnit.
	Summary string
	// Evidence is the kind's figures in full (JSON-encodable), for
	// report.json and the HTML report.
	Evidence any
}

// ErrNoSamples marks a failure for lack of observations.
var ErrNoSamples = errors.New("no samples")

// noSamples returns a "no samples" failure with a reason.
func noSamples(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNoSamples, fmt.Sprintf(format, args...))
}

// New builds the expectation described by e, which must carry the
// parameters of its kind.
func New(e plan.Expectation) (Expectation, error) {
	if errs := e.CheckParams(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	switch e.Kind {
	case plan.ExpectLiveness:
		l := e.Liveness
		return &Liveness{Tolerance: l.Tolerance, Lag: l.Lag, MaxStall: l.MaxStall}, nil
	case plan.ExpectTxInclusion:
		return newTxInclusion(e.Inclusion.MinRatio), nil
	case plan.ExpectDAInclusion:
		return newDAInclusion(e.Inclusion.MinRatio), nil
	case plan.ExpectAgreement:
		return &Agreement{}, nil
	case plan.ExpectMetric:
		q, err := ParseQuery(e.Metric.Query)
		if err != nil {
			return nil, err
		}
		return &Metric{Query: q, Op: e.Metric.Op, Value: e.Metric.Value}, nil
	case plan.ExpectLog:
		return newLog(e.Log.Targets.Nodes, e.Log.Pattern)
	case plan.ExpectCustom:
		return &Custom{Func: e.Custom.Func}, nil
	}
	return nil, fmt.Errorf("unknown expectation kind %q", e.Kind)
}

// retry calls fn up to tries times, env.RetryDelay apart.
func retry[T any](ctx context.Context, env *Env, tries int, fn func() (T, error)) (T, error) {
	delay := env.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	var v T
	var err error
	for i := 0; i < tries; i++ {
		if v, err = fn(); err == nil {
			return v, nil
		}
		if i+1 < tries {
			select {
			case <-ctx.Done():
				return v, errors.Join(err, ctx.Err())
			case <-time.After(delay):
			}
		}
	}
	return v, err
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

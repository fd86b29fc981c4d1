// Package workloads drives load and chaos during a run: transactions from
// the seeded wallets, DA channel inscriptions and blob dispersal, and random
// node restarts. Each workload is built from its plan entry and runs until
// its plan is exhausted or its context ends.
package workloads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/runners"
)

// Env is what workloads act on.
type Env struct {
	Plan    *plan.Plan
	Nodes   []nodeclient.Node
	Feed    *feed.Feed
	Codec   nodeclient.Codec
	Cluster runners.Cluster
	// Seed is the plan's seed; each workload draws from its own generator
	// derived from it and its id (see rng), so none is shared between
	// goroutines and a run repeats with the same --seed.
	Seed int64
	Log  *slog.Logger
	// Progress is called with a workload's counters whenever they change.
	Progress func(id string, counts map[string]int)
	// Restarted is called after a workload restarted a node (chaos), for
	// the timeline and the history; nil means nobody listens.
	Restarted func(id, node string)
}

// rng returns a deterministic generator for one workload.
func (e *Env) rng(id string) *rand.Rand {
	var h uint64 = 1469598103934665603
	for _, c := range id {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(uint64(e.Seed), h))
}

// CodecUser is a workload that signs transactions with Env.Codec; the
// engine builds a codec only when some workload is one.
type CodecUser interface {
	Workload
	// UsesCodec marks the workload; it does nothing.
	UsesCodec()
}

// Workload is one running load or chaos generator.
type Workload interface {
	// ID is the plan's workload id.
	ID() string
	// Kind is the plan's workload kind.
	Kind() plan.WorkloadKind
	// Run drives the workload until its plan is done or ctx ends. Ending
	// through ctx is not an error.
	Run(ctx context.Context, env *Env) error
	// Counts returns the workload's counters (submitted, included, ...).
	Counts() map[string]int
}

// New builds the workload of plan entry w.
func New(w plan.Workload, p *plan.Plan) (Workload, error) {
	switch w.Kind {
	case plan.WorkloadTransactions:
		if w.Transactions == nil {
			return nil, fmt.Errorf("workload %s: no transactions settings", w.ID)
		}
		return newTx(w.ID, *w.Transactions, p)
	case plan.WorkloadDA:
		if w.DA == nil {
			return nil, fmt.Errorf("workload %s: no DA settings", w.ID)
		}
		return newDA(w.ID, *w.DA, p), nil
	case plan.WorkloadChaosRestart:
		if w.ChaosRestart == nil {
			return nil, fmt.Errorf("workload %s: no chaos_restart settings", w.ID)
		}
		return newChaos(w.ID, *w.ChaosRestart, p)
	}
	return nil, fmt.Errorf("workload %s: unknown kind %q", w.ID, w.Kind)
}

// counters is a set of named counts reported through Env.Progress.
type counters struct {
	id string
	mu sync.Mutex
	m  map[string]int
}

func newCounters(id string, names ...string) *counters {
	c := &counters{id: id, m: map[string]int{}}
	for _, n := range names {
		c.m[n] = 0
	}
	return c
}

func (c *counters) add(env *Env, name string, d int) {
	c.mu.Lock()
	c.m[name] += d
	snap := c.snapshotLocked()
	c.mu.Unlock()
	if env != nil && env.Progress != nil {
		env.Progress(c.id, snap)
	}
}

func (c *counters) snapshotLocked() map[string]int {
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// Counts returns a copy of the counters.
func (c *counters) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotLocked()
}

// Submission retry policy (as in the reference framework): up to 5 rounds,
// each trying every node in a shuffled order, 500 ms between rounds.
const (
	submitRounds = 5
	roundDelay   = 500 * time.Millisecond
)

// errNoNodes is returned when there is nobody to submit to.
var errNoNodes = errors.New("cluster client has no api clients")

// submit sends tx to the first node that accepts it.
func submit(ctx context.Context, nodes []nodeclient.Node, rng *rand.Rand, tx nodeapi.Tx) error {
	if len(nodes) == 0 {
		return errNoNodes
	}
	var last error
	for round := 0; round < submitRounds; round++ {
		order := rng.Perm(len(nodes))
		for _, i := range order {
			if last = nodes[i].Client.AddTx(ctx, tx); last == nil {
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if err := ctxtime.Sleep(ctx, roundDelay); err != nil {
			return err
		}
	}
	return fmt.Errorf("cluster client exhausted all nodes: %w", last)
}

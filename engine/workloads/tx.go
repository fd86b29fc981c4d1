package workloads

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"github.com/nomosrun/nomosrun/nodeapi"
)

// maxSubmitInterval caps the pause between two transactions.
const maxSubmitInterval = time.Second

// Tx submits one self-transfer per wallet, each spending the wallet's
// genesis note, at the planned rate. It implements expect.TxSource.
type Tx struct {
	id       string
	planned  int
	interval time.Duration
	c        *counters

	mu      sync.Mutex
	tracked map[string]bool
}

// TxPlan returns how many transactions a transactions workload submits and
// the pause between them: count = min(floor(run / block interval × rate),
// users) and interval = min(run / count, 1 s).
func TxPlan(t plan.Transactions, p *plan.Plan) (int, time.Duration, error) {
	users := p.Wallets.Count
	if t.Users > 0 && t.Users < users {
		users = t.Users
	}
	if users <= 0 {
		return 0, 0, errors.New("Transaction workload initialization failed: no seeded wallet accounts configured")
	}
	run, bi := p.Derived.RunDuration.Std(), p.Derived.BlockInterval.Std()
	count := p.Derived.PlannedTxs
	if count <= 0 && bi > 0 {
		count = int(float64(run) / float64(bi) * float64(t.Rate))
	}
	count = min(count, users)
	if count <= 0 {
		return 0, 0, errors.New("Transaction workload planning failed: calculated zero transactions to submit based on run duration and target rate")
	}
	return count, min(run/time.Duration(count), maxSubmitInterval), nil
}

func newTx(id string, t plan.Transactions, p *plan.Plan) (*Tx, error) {
	count, interval, err := TxPlan(t, p)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", id, err)
	}
	return &Tx{id: id, planned: count, interval: interval, tracked: map[string]bool{},
		c: newCounters(id, "planned", "submitted", "failed", "late")}, nil
}

// ID implements Workload.
func (t *Tx) ID() string { return t.id }

// Kind implements Workload.
func (t *Tx) Kind() plan.WorkloadKind { return plan.WorkloadTransactions }

// Counts implements Workload.
func (t *Tx) Counts() map[string]int { return t.c.Counts() }

// Planned implements expect.TxSource.
func (t *Tx) Planned() int { return t.planned }

// Tracked implements expect.TxSource.
func (t *Tx) Tracked(pk string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tracked[pk]
}

// submitters is how many transactions may be in flight at once: enough to
// keep the planned pace when one submission takes longer than the interval
// (1,000 tx/s needs about one per millisecond), few enough not to flood a node.
const submitters = 8

// lateAfter is how long after its due time a transaction counts as late.
const lateAfter = 100 * time.Millisecond

// Run implements Workload. Transaction i is due at start + i × interval
// (the pace does not drift with submission time) and is submitted by one of
// a few concurrent submitters; "late" counts those handed over more than
// lateAfter (or one interval) after they were due. A transaction no node
// accepts is counted as failed and the workload goes on; only a codec error
// stops it.
func (t *Tx) Run(ctx context.Context, env *Env) error {
	if env.Codec == nil {
		return fmt.Errorf("workload %s: no transaction codec for this node type", t.id)
	}
	t.c.add(env, "planned", t.planned)
	queue := make(chan nodeapi.Tx)
	var wg sync.WaitGroup
	for w := range min(submitters, t.planned) {
		rng := env.rng(fmt.Sprintf("%s/%d", t.id, w))
		wg.Go(func() {
			for tx := range queue {
				t.send(ctx, env, rng, tx)
			}
		})
	}
	defer wg.Wait()
	defer close(queue)
	start := time.Now()
	for i := 0; i < t.planned; i++ {
		due := start.Add(time.Duration(i) * t.interval)
		if ctxtime.Sleep(ctx, time.Until(due)) != nil {
			return nil
		}
		tx, err := env.Codec.Transfer(i)
		if err != nil {
			return fmt.Errorf("Transaction workload signing failed: could not sign transaction: %w", err)
		}
		t.mu.Lock()
		for _, o := range tx.MantleTx.LedgerTx.Outputs {
			t.tracked[o.PK] = true
		}
		t.mu.Unlock()
		select {
		case queue <- tx:
		case <-ctx.Done():
			return nil
		}
		// A transaction handed to a submitter well after it was due means
		// the submitters cannot keep the planned pace (timer jitter aside).
		if time.Since(due) > max(t.interval, lateAfter) {
			t.c.add(env, "late", 1)
		}
	}
	return nil
}

// send submits one transaction and counts the outcome.
func (t *Tx) send(ctx context.Context, env *Env, rng *rand.Rand, tx nodeapi.Tx) {
	if err := submit(ctx, env.Nodes, rng, tx); err != nil {
		if ctx.Err() != nil {
			return
		}
		env.Log.Warn("transaction not accepted", "workload", t.id, "err", err)
		t.c.add(env, "failed", 1)
		return
	}
	t.c.add(env, "submitted", 1)
}

// UsesCodec implements CodecUser.
func (*Tx) UsesCodec() {}

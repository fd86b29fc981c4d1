package expect

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/feed"
)

// Default inclusion ratios (the scenario builtins' defaults).
const (
	DefaultTxRatio = 0.5
	DefaultDARatio = 0.8
	maxCatchUp     = 60 * time.Second
)

// canonBlocks keeps per canonical block what a capture extracted from it,
// so an orphaned block is forgotten and never counted twice.
type canonBlocks[T any] struct {
	mu      sync.Mutex
	blocks  map[string]T
	started bool
}

func (c *canonBlocks[T]) capture(f *feed.Feed, extract func(feed.Event) T) {
	c.blocks = map[string]T{}
	c.started = true
	f.Subscribe(func(ev feed.Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ev.Kind == feed.Orphaned {
			delete(c.blocks, ev.ID)
			return
		}
		if ev.Height == 0 { // genesis carries the genesis tx, not workload txs
			return
		}
		c.blocks[ev.ID] = extract(ev)
	})
}

func (c *canonBlocks[T]) each(fn func(T)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.blocks {
		fn(v)
	}
}

// catchUpWait is how long evaluation waits for late inclusions:
// min(block interval × security param, 60 s) unless the env says otherwise.
func catchUpWait(env *Env) time.Duration {
	if env.CatchUp > 0 {
		return env.CatchUp
	}
	d := env.Plan.Derived.BlockInterval.Std() * time.Duration(max(env.Plan.Topology.SecurityParam, 1))
	return min(d, maxCatchUp)
}

// waitFor polls ok every second until it holds or the catch-up wait ends.
func waitFor(ctx context.Context, env *Env, ok func() bool) {
	deadline := time.Now().Add(catchUpWait(env))
	for !ok() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// TxInclusion checks that at least MinRatio of the planned transactions
// landed in canonical blocks (a tx counts when one of its outputs goes to a
// workload wallet).
type TxInclusion struct {
	MinRatio float64
	blocks   canonBlocks[[][]string]
}

func newTxInclusion(r float64) *TxInclusion {
	if r <= 0 {
		r = DefaultTxRatio
	}
	return &TxInclusion{MinRatio: r}
}

// Capture implements Capturer.
func (t *TxInclusion) Capture(env *Env) {
	t.blocks.capture(env.Feed, func(ev feed.Event) [][]string {
		out := make([][]string, 0, len(ev.Block.Transactions))
		for _, tx := range ev.Block.Transactions {
			var pks []string
			for _, o := range tx.MantleTx.LedgerTx.Outputs {
				pks = append(pks, o.PK)
			}
			out = append(out, pks)
		}
		return out
	})
}

func (t *TxInclusion) observed(env *Env) int {
	n := 0
	t.blocks.each(func(txs [][]string) {
		for _, pks := range txs {
			for _, pk := range pks {
				if env.Tx.Tracked(pk) {
					n++
					break
				}
			}
		}
	})
	return n
}

// TxEvidence is what transaction inclusion judged.
type TxEvidence struct {
	Planned  int     `json:"planned"`
	Required int     `json:"required"`
	Included int     `json:"included"`
	MinRatio float64 `json:"min_ratio"`
}

// Evaluate implements Expectation.
func (t *TxInclusion) Evaluate(ctx context.Context, env *Env) (Verdict, error) {
	if !t.blocks.started {
		return Verdict{}, fmt.Errorf("transaction inclusion expectation not captured")
	}
	if env.Tx == nil || env.Tx.Planned() == 0 {
		return Verdict{}, noSamples("no transactions were planned")
	}
	required := int(math.Ceil(float64(env.Tx.Planned()) * t.MinRatio))
	waitFor(ctx, env, func() bool { return t.observed(env) >= required })
	ev := TxEvidence{Planned: env.Tx.Planned(), Required: required, Included: t.observed(env), MinRatio: t.MinRatio}
	v := Verdict{Evidence: ev, Summary: fmt.Sprintf("%d of %d planned transactions included, %d required (min_ratio %g)",
		ev.Included, ev.Planned, ev.Required, ev.MinRatio)}
	if ev.Included < required {
		return v, fmt.Errorf("transaction inclusion observed %d below required %d (planned %d, min_ratio %g)",
			ev.Included, required, ev.Planned, t.MinRatio)
	}
	return v, nil
}

// daBlock is what a block contributes to DA inclusion.
type daBlock struct {
	inscriptions []string // channel ids
	blobs        []string // channel ids, one per blob
}

// DAInclusion checks that at least MinRatio of the planned channel
// inscriptions and of the planned blobs landed in canonical blocks.
type DAInclusion struct {
	MinRatio float64
	blocks   canonBlocks[daBlock]
}

func newDAInclusion(r float64) *DAInclusion {
	if r <= 0 {
		r = DefaultDARatio
	}
	return &DAInclusion{MinRatio: r}
}

// Capture implements Capturer.
func (d *DAInclusion) Capture(env *Env) {
	d.blocks.capture(env.Feed, func(ev feed.Event) daBlock {
		var b daBlock
		for _, tx := range ev.Block.Transactions {
			for _, op := range tx.MantleTx.Ops {
				if p, ok := op.Inscription(); ok {
					b.inscriptions = append(b.inscriptions, p.ChannelID)
				}
				if p, ok := op.Blob(); ok {
					b.blobs = append(b.blobs, p.Channel)
				}
			}
		}
		return b
	})
}

// counts returns per planned channel whether it was inscribed, and the
// number of blobs seen on planned channels.
func (d *DAInclusion) counts(channels []string) (inscribed map[string]bool, blobs map[string]int) {
	planned := map[string]bool{}
	for _, c := range channels {
		planned[c] = true
	}
	inscribed, blobs = map[string]bool{}, map[string]int{}
	d.blocks.each(func(b daBlock) {
		for _, c := range b.inscriptions {
			if planned[c] {
				inscribed[c] = true
			}
		}
		for _, c := range b.blobs {
			if planned[c] {
				blobs[c]++
			}
		}
	})
	return inscribed, blobs
}

// DAEvidence is what DA inclusion judged.
type DAEvidence struct {
	Channels             int     `json:"channels"`
	Inscribed            int     `json:"inscribed"`
	RequiredInscriptions int     `json:"required_inscriptions"`
	PlannedBlobs         int     `json:"planned_blobs"`
	Blobs                int     `json:"blobs"`
	RequiredBlobs        int     `json:"required_blobs"`
	MinRatio             float64 `json:"min_ratio"`
}

// Evaluate implements Expectation.
func (d *DAInclusion) Evaluate(ctx context.Context, env *Env) (Verdict, error) {
	if !d.blocks.started {
		return Verdict{}, fmt.Errorf("DA inclusion expectation not captured")
	}
	if env.DA == nil || len(env.DA.Channels()) == 0 {
		return Verdict{}, noSamples("no DA channels were planned")
	}
	chans := env.DA.Channels()
	reqIns := int(math.Ceil(float64(len(chans)) * d.MinRatio))
	reqBlobs := int(math.Ceil(float64(env.DA.PlannedBlobs()) * d.MinRatio))
	done := func() bool {
		ins, blobs := d.counts(chans)
		total := 0
		for _, n := range blobs {
			total += n
		}
		return len(ins) >= reqIns && total >= reqBlobs
	}
	waitFor(ctx, env, done)
	ins, blobs := d.counts(chans)
	var issues []string
	if len(ins) < reqIns {
		var missing []string
		for _, c := range chans {
			if !ins[c] {
				missing = append(missing, short(c))
			}
		}
		issues = append(issues, fmt.Sprintf("missing inscriptions: observed=%d/%d required=%d missing=[%s]",
			len(ins), len(chans), reqIns, strings.Join(missing, " ")))
	}
	total := 0
	var noBlobs []string
	for _, c := range chans {
		total += blobs[c]
		if blobs[c] == 0 {
			noBlobs = append(noBlobs, short(c))
		}
	}
	sort.Strings(noBlobs)
	ev := DAEvidence{Channels: len(chans), Inscribed: len(ins), RequiredInscriptions: reqIns,
		PlannedBlobs: env.DA.PlannedBlobs(), Blobs: total, RequiredBlobs: reqBlobs, MinRatio: d.MinRatio}
	v := Verdict{Evidence: ev, Summary: fmt.Sprintf("%d of %d channels inscribed (%d required), %d of %d planned blobs included (%d required)",
		ev.Inscribed, ev.Channels, ev.RequiredInscriptions, ev.Blobs, ev.PlannedBlobs, ev.RequiredBlobs)}
	if total < reqBlobs {
		issues = append(issues, fmt.Sprintf("missing blobs: observed_total_blobs=%d expected_total_blobs=%d required_blobs=%d channels_with_blobs=%d/%d missing_channels=[%s]",
			total, env.DA.PlannedBlobs(), reqBlobs, len(chans)-len(noBlobs), len(chans), strings.Join(noBlobs, " ")))
	}
	if len(issues) > 0 {
		return v, fmt.Errorf("%s", strings.Join(issues, "; "))
	}
	return v, nil
}

package run

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/faults"
	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/workloads"
	"github.com/nomosrun/nomosrun/nodekind"
)

// blockWindowSlack bounds a run window given in blocks: if the chain does
// not reach the target within this many times the planned wall time, the
// window closes anyway and liveness reports the shortfall.
const blockWindowSlack = 3

// drive runs workloads and the fault schedule for the run window, then
// lets the load workloads go on through the cooldown; faults and disruptive
// workloads (chaos) end with the window, so the cooldown only lets work land
// and nodes catch up. Every fault is healed and every workload stopped
// before it returns, on every path.
func (x *execution) drive(ctx context.Context) error {
	x.phase(PhaseDrive)
	if len(x.plan.Hooks) > 0 && x.opts.Hooks == nil {
		return &Error{Phase: PhaseDrive, Kind: KindInvalid, Err: errors.New("the plan has run-time hooks but the run was given no interpreter to call them")}
	}
	dctx, stop := context.WithCancel(ctx)
	defer stop()
	windowCtx, endWindow := context.WithCancel(dctx) // disruptive workloads end with the window
	defer endWindow()

	codec, err := x.codec()
	if err != nil {
		return &Error{Phase: PhaseDrive, Kind: KindInfrastructure, Err: err}
	}
	wenv := &workloads.Env{Plan: x.plan, Feed: x.feed, Codec: codec, Cluster: x.cluster,
		Nodes: x.nodes, Seed: x.plan.Seed, Log: x.log, Restarted: x.restarted, Progress: func(id string, c map[string]int) {
			x.emit(Event{Kind: EventWorkload, ID: id, Counts: c})
		}}
	// The window opens on fresh heights (the codec may have taken a while),
	// just before the first workload and fault start.
	x.feed.Poll(ctx)
	windowStart := time.Since(x.start)
	wlErr := make(chan error, len(x.workloads))
	var wg, disruptive sync.WaitGroup
	for _, w := range x.workloads {
		wctx, group := dctx, &wg
		if w.Kind().Disrupts() {
			wctx, group = windowCtx, &disruptive
		}
		group.Add(1)
		go func() {
			defer group.Done()
			if err := runWorkload(wctx, w, wenv); err != nil {
				x.log.Error("workload failed", "workload", w.ID(), "err", err)
				wlErr <- err
			}
		}()
	}

	fenv := &faults.Env{Plan: x.plan, Cluster: x.cluster, Log: x.log, Height: func() uint64 { return x.feed.Stats().Height },
		OnEvent: x.faultEvent, Nodes: x.nodes}
	sched := faults.Start(dctx, fenv)
	if hs := x.startHooks(windowCtx, sched, codec, &disruptive); hs != nil {
		defer func() { x.recordHooks(hs) }()
	}

	// stopAll ends the drive: workloads stop, faults heal.
	stopped := false
	stopAll := func() {
		if !stopped {
			stopped = true
			stop()
			wg.Wait()
			disruptive.Wait()
		}
	}
	defer stopAll()
	healed := false
	heal := func() error {
		if healed {
			return nil
		}
		healed = true
		return sched.Stop()
	}
	defer heal()

	if err := x.window(ctx, wlErr); err != nil {
		return err
	}
	// A poll now, so the window's last heights are not up to a poll
	// interval old (that would shave blocks off every window).
	x.feed.Poll(ctx)
	x.setWindow(windowStart, time.Since(x.start))
	endWindow()
	disruptive.Wait() // a restart under way completes before the cooldown
	if err := heal(); err != nil {
		return &Error{Phase: PhaseDrive, Kind: KindInfrastructure, Err: err}
	}

	x.phase(PhaseCooldown)
	if err := x.wait(ctx, x.plan.Derived.Cooldown.Std(), wlErr, PhaseCooldown); err != nil {
		return err
	}
	stopAll()
	x.recordWorkloads()
	return nil
}

// codec returns the transaction codec: the given one, or one built from
// the genesis block when some workload submits transactions.
func (x *execution) codec() (nodeclient.Codec, error) {
	if x.opts.Codec != nil {
		return x.opts.Codec, nil
	}
	factory := x.opts.NewCodec
	if factory == nil {
		kind, err := nodekind.Get(x.plan.Topology.Node)
		if err != nil {
			return nil, err
		}
		factory = kind.Codec
	}
	// Hooks may submit transfers and read the transactions of blocks.
	needed := len(x.plan.Hooks) > 0 && x.plan.Wallets.Count > 0
	for _, w := range x.workloads {
		_, ok := w.(workloads.CodecUser)
		needed = needed || ok
	}
	if !needed {
		return nil, nil
	}
	genesis, ok := x.feed.Genesis()
	if !ok {
		return nil, fmt.Errorf("transaction codec: the block feed has not seen the genesis block")
	}
	c, err := factory(x.plan, genesis)
	if err != nil {
		return nil, fmt.Errorf("transaction codec: %w", err)
	}
	return c, nil
}

// window waits for the run window: RunDuration, or until the chain grew by
// the planned number of blocks.
func (x *execution) window(ctx context.Context, wlErr <-chan error) error {
	if x.plan.Run.Blocks <= 0 {
		return x.wait(ctx, x.plan.Derived.RunDuration.Std(), wlErr, PhaseDrive)
	}
	target := x.feed.Stats().Height + uint64(x.plan.Run.Blocks)
	limit := time.Now().Add(blockWindowSlack * max(x.plan.Derived.RunDuration.Std(), time.Second))
	for x.feed.Stats().Height < target && time.Now().Before(limit) {
		if err := x.wait(ctx, x.pollInterval(), wlErr, PhaseDrive); err != nil {
			return err
		}
	}
	if x.feed.Stats().Height < target {
		x.log.Warn("run window closed before the planned blocks", "want", target, "height", x.feed.Stats().Height)
	}
	return nil
}

func (x *execution) pollInterval() time.Duration {
	if x.opts.FeedInterval > 0 {
		return x.opts.FeedInterval
	}
	return time.Second
}

// wait sleeps d unless ctx ends or a workload fails.
func (x *execution) wait(ctx context.Context, d time.Duration, wlErr <-chan error, ph Phase) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		x.recordWorkloads()
		return x.fail(ctx, ph, ctx.Err())
	case err := <-wlErr:
		x.recordWorkloads()
		return &Error{Phase: ph, Kind: KindInfrastructure, Err: fmt.Errorf("workload failure: %w", err)}
	case err := <-x.hookErr:
		x.recordWorkloads()
		kind := KindScript
		if ae := (*actionError)(nil); errors.As(err, &ae) {
			kind = KindInfrastructure
		}
		return &Error{Phase: ph, Kind: kind, Err: err}
	case err := <-x.exited:
		x.recordWorkloads()
		x.timeline("node_exit", "", err.Error())
		return &Error{Phase: ph, Kind: KindInfrastructure, Err: fmt.Errorf("node exited unexpectedly: %w", err)}
	case <-t.C:
		return nil
	}
}

// runWorkload runs w, turning a panic into an error.
func runWorkload(ctx context.Context, w workloads.Workload, env *workloads.Env) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("workload %s panicked: %v", w.ID(), r)
		}
	}()
	if err := w.Run(ctx, env); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("workload %s: %w", w.ID(), err)
	}
	return nil
}

// recordWorkloads stores the workloads' counters in the result.
func (x *execution) recordWorkloads() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.res.Workloads = x.workloadResults()
}

// workloadResults are the workloads' counters, then those of each hook that
// submitted transfers.
func (x *execution) workloadResults() []report.WorkloadResult {
	var out []report.WorkloadResult
	for _, w := range x.workloads {
		out = append(out, report.WorkloadResult{ID: w.ID(), Kind: w.Kind(), Counts: w.Counts()})
	}
	byHook := x.hookTxs.counts()
	for _, h := range x.plan.Hooks {
		if c, ok := byHook[h.ID]; ok {
			out = append(out, report.WorkloadResult{ID: h.ID, Kind: plan.WorkloadHook, Counts: c})
		}
	}
	return out
}

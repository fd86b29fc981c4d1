package plan

import (
	"math"
	"time"
)

// Cooldown bounds (the Rust framework's runner): at least 5 block intervals
// and security_param block intervals; at least 30s when nodes are restarted,
// killed or paused, so they can catch up before evaluation.
const (
	cooldownMinBlocks   = 5
	nodeControlCooldown = 30 * time.Second
)

// BlockInterval is the mean time between blocks: slot / active_slot_coeff.
//
// With the lottery winning a slot with probability f, blocks arrive every
// 1/f slots on average, so the interval divides the slot by f. (The Rust
// framework's block_interval_hint multiplies slot by f, which understates the
// interval; nomosrun deliberately divides.)
func (t Topology) BlockInterval() time.Duration {
	if t.ActiveSlotCoeff <= 0 || t.Slot <= 0 {
		return t.Slot.Std()
	}
	return time.Duration(math.Round(float64(t.Slot) / t.ActiveSlotCoeff))
}

// Wall converts a span to wall time: wall spans as they are, blocks times
// the block interval, slots times the slot. The zero span is zero.
func (t Topology) Wall(s Span) time.Duration {
	switch {
	case s.Blocks > 0:
		return time.Duration(s.Blocks) * t.BlockInterval()
	case s.Slots > 0:
		return time.Duration(s.Slots) * t.Slot.Std()
	}
	return s.Wall.Std()
}

// Wall converts a span of this plan to wall time (see Topology.Wall).
func (p *Plan) Wall(s Span) time.Duration { return p.Topology.Wall(s) }

// RunWindow is the requested run window in wall time before clamping:
// run(blocks=N) is N block intervals.
func (t Topology) RunWindow(r Run) time.Duration {
	if r.Blocks > 0 {
		return t.Wall(Span{Blocks: r.Blocks})
	}
	return r.Duration.Std()
}

// NeedsNodeControl reports whether the plan restarts, kills or pauses nodes,
// or has a hook that may.
func (p *Plan) NeedsNodeControl() bool {
	for _, h := range p.Hooks {
		for _, c := range h.Uses {
			if c == CapKill || c == CapRestart || c == CapPause {
				return true
			}
		}
	}
	for _, w := range p.Workloads {
		if w.Kind == WorkloadChaosRestart {
			return true
		}
	}
	for _, f := range p.Faults {
		if f.Kind == FaultKill || f.Kind == FaultPause {
			return true
		}
	}
	return false
}

// derive computes the plan's figures for the (clamped) run window, with the
// Rust framework's formulas except for the block interval (see
// Topology.BlockInterval):
//
//	expected_blocks = ceil(run / slot * coeff)
//	cooldown        = max(5, security_param) * block_interval, at least 30s with node control;
//	                  none without workloads, faults and hooks
//	planned_txs     = min(floor(run / block_interval * rate), users)
//	channels        = rate + ceil(rate * headroom / 100), at least 1
//	blobs           = blob_rate * max(1, expected_blocks / security_param)
func derive(p *Plan, run time.Duration) Derived {
	t := p.Topology
	interval := t.BlockInterval()
	d := Derived{BlockInterval: Duration(interval), RunDuration: Duration(run)}
	if t.Slot > 0 {
		d.ExpectedBlocks = int(math.Ceil(float64(run) / float64(t.Slot) * t.ActiveSlotCoeff))
	}
	d.Cooldown = Duration(time.Duration(max(cooldownMinBlocks, t.SecurityParam)) * interval)
	if p.NeedsNodeControl() && d.Cooldown < Duration(nodeControlCooldown) {
		d.Cooldown = Duration(nodeControlCooldown)
	}
	if len(p.Workloads) == 0 && len(p.Faults) == 0 && len(p.Hooks) == 0 {
		// Nothing is in flight and no node has to catch up (a hook may
		// submit transactions or start faults).
		d.Cooldown = 0
	}
	for _, w := range p.Workloads {
		switch {
		case w.Transactions != nil:
			d.PlannedTxs = plannedTxs(run, t, w.Transactions, p.Wallets.Count)
		case w.DA != nil:
			d.PlannedChannels = max(1, w.DA.ChannelRate+ceilDiv(w.DA.ChannelRate*w.DA.Headroom, 100))
			k := max(1, t.SecurityParam)
			d.PlannedBlobs = w.DA.BlobRate * max(1, d.ExpectedBlocks/k)
		}
	}
	return d
}

// plannedTxs is how many transactions the workload submits: rate per block
// over run / block_interval blocks, but each wallet account is used once.
// The block count is computed as run / slot * coeff (the same quotient) with
// a small epsilon, so a whole number of blocks is not floored one short by
// rounding.
func plannedTxs(run time.Duration, t Topology, tx *Transactions, wallets int) int {
	if t.Slot <= 0 {
		return 0
	}
	blocks := float64(run) / float64(t.Slot) * t.ActiveSlotCoeff
	target := int(math.Floor(blocks*float64(tx.Rate) + 1e-9))
	accounts := wallets
	if tx.Users > 0 && tx.Users < accounts {
		accounts = tx.Users
	}
	return min(target, accounts)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

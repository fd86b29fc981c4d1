package hooks

import (
	"context"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// Options configure a Scheduler.
type Options struct {
	Hooks   []plan.Hook
	Caller  Caller
	Context Context
	// Slot is the slot length, to turn slots(n) into wall time.
	Slot time.Duration
}

// Stats say how the hooks ran.
type Stats struct {
	// Calls counts the calls of each hook, by id.
	Calls map[string]int `json:"calls"`
	// Skipped counts the intervals of every hooks that passed while an
	// earlier call still ran, by id: the hook is called once, not once per
	// missed interval.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Busy is the time each hook's calls took in all, by id.
	Busy map[string]time.Duration `json:"busy"`
	// MaxLag is the longest time a new block waited for its on_block call,
	// and MaxLagBlocks the most blocks the hooks were behind the feed.
	MaxLag       time.Duration `json:"max_lag"`
	MaxLagBlocks int           `json:"max_lag_blocks"`
}

// Scheduler calls a plan's hooks during the drive phase: one at a time, on
// one goroutine, in time order and then registration order.
//
// New blocks reach it through Added, which never blocks: the block feed
// hands them over and goes on, and a slow hook makes the hooks lag (the
// lag is measured in Stats), never the feed.
type Scheduler struct {
	o     Options
	start time.Time

	mu      sync.Mutex
	pending []arrival // blocks not yet delivered, in arrival order
	arrived int
	seen    map[string]bool
	height  uint64 // highest height announced
	wake    chan struct{}

	stats Stats
	// wall hooks: next due time; block hooks: next due height.
	nextAt     map[string]time.Time
	nextHeight map[string]uint64
	done       map[string]bool // at hooks already called
}

// arrival is a block as the feed announced it; seq numbers the arrivals.
type arrival struct {
	block Block
	at    time.Time
	seq   int
}

// New returns a scheduler for o.Hooks; the drive phase starts now.
func New(o Options) *Scheduler {
	s := &Scheduler{
		o: o, start: time.Now(), seen: map[string]bool{}, wake: make(chan struct{}, 1),
		stats:  Stats{Calls: map[string]int{}, Skipped: map[string]int{}, Busy: map[string]time.Duration{}},
		nextAt: map[string]time.Time{}, nextHeight: map[string]uint64{}, done: map[string]bool{},
	}
	for _, h := range o.Hooks {
		s.stats.Calls[h.ID] = 0
	}
	return s
}

// Added announces a block that joined the canonical chain. Each block is
// delivered to on_block hooks at most once, in the order announced.
func (s *Scheduler) Added(b Block) {
	s.mu.Lock()
	if !s.seen[b.ID] {
		s.seen[b.ID] = true
		s.arrived++
		s.pending = append(s.pending, arrival{b, time.Now(), s.arrived})
		s.height = max(s.height, b.Height)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stats returns how the hooks ran so far.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Calls, st.Skipped, st.Busy = maps.Clone(st.Calls), maps.Clone(st.Skipped), maps.Clone(st.Busy)
	return st
}

// call is one hook call that is due.
type call struct {
	hook  plan.Hook
	index int // registration order
	due   time.Time
	block *arrival
}

// before orders calls by due time, then block arrival, then registration.
func (c call) before(d call) bool {
	if !c.due.Equal(d.due) {
		return c.due.Before(d.due)
	}
	if cs, ds := c.seq(), d.seq(); cs != ds {
		return cs < ds
	}
	return c.index < d.index
}

func (c call) seq() int {
	if c.block == nil {
		return 0
	}
	return c.block.seq
}

// Run calls the hooks until ctx is done (nil) or a hook fails (its error).
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.o.Hooks) == 0 {
		return nil
	}
	base := s.o.Context.Height()
	for _, h := range s.o.Hooks {
		if d, ok := s.wallSpan(h); ok {
			s.nextAt[h.ID] = s.start.Add(d)
		} else if n := s.blockSpan(h); n > 0 {
			s.nextHeight[h.ID] = base + uint64(n)
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		calls := s.due(time.Now())
		for _, c := range calls {
			if err := s.run(ctx, c); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if len(calls) > 0 {
			continue // time passed while the hooks ran: look again
		}
		if next, ok := s.nextWall(); ok {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// wallSpan returns the start offset of h when it runs on wall time.
func (s *Scheduler) wallSpan(h plan.Hook) (time.Duration, bool) {
	sp := h.At
	if h.Kind == plan.HookEvery {
		sp = h.Every
	}
	switch {
	case h.Kind == plan.HookOnBlock:
		return 0, false
	case sp.Slots > 0:
		return time.Duration(sp.Slots) * s.o.Slot, true
	case sp.Blocks > 0:
		return 0, false
	}
	return sp.Wall.Std(), true
}

// interval is the wall interval of an every hook on wall time.
func (s *Scheduler) interval(h plan.Hook) time.Duration {
	if h.Every.Slots > 0 {
		return time.Duration(h.Every.Slots) * s.o.Slot
	}
	return h.Every.Wall.Std()
}

// blockSpan returns the number of blocks of a hook that runs on the chain.
func (s *Scheduler) blockSpan(h plan.Hook) int {
	if h.Kind == plan.HookEvery {
		return h.Every.Blocks
	}
	if h.Kind == plan.HookAt {
		return h.At.Blocks
	}
	return 0
}

// nextWall is the earliest time a wall-time hook is due.
func (s *Scheduler) nextWall() (time.Time, bool) {
	var next time.Time
	for _, t := range s.nextAt {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// due collects the calls due at now, in time order then registration
// order, and advances each hook's next due point.
func (s *Scheduler) due(now time.Time) []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	arrivals := s.pending
	s.pending = nil
	var calls []call
	for i, h := range s.o.Hooks {
		switch {
		case h.Kind == plan.HookOnBlock:
			for j := range arrivals {
				calls = append(calls, call{hook: h, index: i, due: arrivals[j].at, block: &arrivals[j]})
			}
		case s.nextAt[h.ID] != (time.Time{}):
			at := s.nextAt[h.ID]
			if now.Before(at) {
				continue
			}
			calls = append(calls, call{hook: h, index: i, due: at})
			s.advanceWall(h, at, now)
		case s.nextHeight[h.ID] > 0 && len(arrivals) > 0:
			for j := range arrivals {
				if arrivals[j].block.Height >= s.nextHeight[h.ID] {
					calls = append(calls, call{hook: h, index: i, due: arrivals[j].at})
					s.advanceHeight(h, arrivals[j].block.Height)
					break
				}
			}
		}
	}
	sort.SliceStable(calls, func(a, b int) bool { return calls[a].before(calls[b]) })
	return calls
}

// advanceWall (called with s.mu held) moves a wall-time hook past now: an at hook is done, an every
// hook's next tick is the first one after now (missed ticks are skipped).
func (s *Scheduler) advanceWall(h plan.Hook, at, now time.Time) {
	if h.Kind == plan.HookAt {
		delete(s.nextAt, h.ID)
		return
	}
	step := s.interval(h)
	next := at.Add(step)
	for !next.After(now) {
		next = next.Add(step)
		s.stats.Skipped[h.ID]++
	}
	s.nextAt[h.ID] = next
}

// advanceHeight (called with s.mu held) moves a block-count hook past height.
func (s *Scheduler) advanceHeight(h plan.Hook, height uint64) {
	if h.Kind == plan.HookAt {
		delete(s.nextHeight, h.ID)
		return
	}
	n := uint64(h.Every.Blocks)
	next := s.nextHeight[h.ID] + n
	for next <= height {
		next += n
		s.stats.Skipped[h.ID]++
	}
	s.nextHeight[h.ID] = next
}

// run makes one call and measures how far the hooks lag the feed.
func (s *Scheduler) run(ctx context.Context, c call) error {
	if ctx.Err() != nil {
		return nil
	}
	var b *Block
	if c.block != nil {
		// The feed announced only the block's place; its transactions are
		// read here, on the hooks' time, not on the feed's.
		blk := c.block.block
		if full, ok := s.o.Context.Block(blk.ID); ok {
			blk = full
		}
		b = &blk
		s.mu.Lock()
		s.stats.MaxLag = max(s.stats.MaxLag, time.Since(c.block.at))
		s.stats.MaxLagBlocks = max(s.stats.MaxLagBlocks, int(s.height-b.Height))
		s.mu.Unlock()
	}
	t0 := time.Now()
	err := s.o.Caller.Call(ctx, c.hook, s.o.Context, b)
	s.mu.Lock()
	s.stats.Calls[c.hook.ID]++
	s.stats.Busy[c.hook.ID] += time.Since(t0)
	s.mu.Unlock()
	if ctx.Err() != nil {
		return nil
	}
	return err // the Caller names the hook and the script position
}

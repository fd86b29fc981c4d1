// Package faults runs the fault schedule of a plan: each fault starts at its
// `at` (wall time, slots, or blocks counted on the observed chain from the
// start of the drive phase), heals after its duration, and every fault still
// active heals when the schedule is stopped at the end of the run window.
//
// A run-time hook starts a fault with StartNow and may heal it with Heal.
//
// Kill and pause use the runner's node controls; partition, isolate,
// latency and clock skew use the nodes' testing-API fault hooks (isolate
// prefers the runner's Isolator when it has one), so they work the same on
// every runner.
package faults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

// Phase says whether a fault started or healed.
type Phase string

// The event phases.
const (
	Started Phase = "start"
	Healed  Phase = "heal"
	Skipped Phase = "skipped" // the run ended before the fault's start
)

// Event is a fault starting, healing or being skipped.
type Event struct {
	Fault plan.Fault
	Phase Phase
	At    time.Time
	Err   error
	// Via is how a network fault was applied (kernel or node), and
	// Measured what its verification measured, or why the kernel was not
	// used.
	Via      plan.Via
	Measured string
}

// Env is what the schedule acts on.
type Env struct {
	Plan    *plan.Plan
	Nodes   []nodeclient.Node
	Cluster runners.Cluster
	// Height returns the observed chain height (for block-based spans).
	Height func() uint64
	// OnEvent receives every start, heal and skip.
	OnEvent func(Event)
	Log     *slog.Logger
	// HealTimeout bounds healing after the run (default 30 s).
	HealTimeout time.Duration
}

// pollHeight is how often block-based spans look at the chain.
const pollHeight = 200 * time.Millisecond

// Schedule is a running fault schedule.
type Schedule struct {
	env  *Env
	stop chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	errs    []error
	peers   map[string]string
	stopped bool
	// active holds the faults started by StartNow that have not healed.
	active map[string]*held
	// net and healed say how each network fault was applied and healed.
	net    map[string]*applied
	healed map[string]applied
}

// held is a fault started by StartNow: closing release heals it early, and
// healed receives the result of healing.
type held struct {
	release chan struct{}
	healed  chan error
}

// Start launches every fault of the plan. The drive phase starts now, with
// the chain at env.Height().
func Start(ctx context.Context, env *Env) *Schedule {
	if env.Log == nil {
		env.Log = slog.New(slog.DiscardHandler)
	}
	s := &Schedule{env: env, stop: make(chan struct{}), peers: map[string]string{}, active: map[string]*held{},
		net: map[string]*applied{}, healed: map[string]applied{}}
	base := env.Height()
	start := time.Now()
	for _, f := range env.Plan.Faults {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(ctx, f, start, base)
		}()
	}
	return s
}

// Stop heals every active fault, skips those not yet started, waits for
// them and returns the errors met while applying or healing faults.
func (s *Schedule) Stop() error {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

func (s *Schedule) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *Schedule) emit(f plan.Fault, ph Phase, err error) {
	via, measured := s.mechanism(f.ID, ph)
	if s.env.OnEvent != nil {
		s.env.OnEvent(Event{Fault: f, Phase: ph, At: time.Now(), Err: err, Via: via, Measured: measured})
	}
}

// StartNow applies f at once, for a run-time hook, and returns when it is
// applied. It heals after f's length (Duration, or a kill's restart_after),
// when Heal is called with f.ID, or when the schedule stops.
func (s *Schedule) StartNow(ctx context.Context, f plan.Fault) error {
	h := &held{release: make(chan struct{}), healed: make(chan error, 1)}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return fmt.Errorf("fault %s (%s): the run window has closed", f.ID, f.Kind)
	}
	if _, dup := s.active[f.ID]; dup {
		s.mu.Unlock()
		return fmt.Errorf("fault %s is already active", f.ID)
	}
	s.active[f.ID] = h
	s.wg.Add(1)
	s.mu.Unlock()
	err := s.apply(ctx, f)
	s.emit(f, Started, err)
	if err != nil {
		s.mu.Lock()
		delete(s.active, f.ID)
		s.mu.Unlock()
		s.wg.Done()
		return fmt.Errorf("fault %s (%s): %w", f.ID, f.Kind, err)
	}
	go func() {
		defer s.wg.Done()
		err := s.holdAndHeal(ctx, f, h.release)
		if err != nil {
			s.fail(err)
		}
		h.healed <- err
		s.mu.Lock()
		delete(s.active, f.ID)
		s.mu.Unlock()
	}()
	return nil
}

// Heal heals a fault StartNow started and returns when it is healed.
func (s *Schedule) Heal(ctx context.Context, id string) error {
	s.mu.Lock()
	h, ok := s.active[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no active fault %q started by a hook", id)
	}
	select {
	case <-h.release:
	default:
		close(h.release)
	}
	select {
	case err := <-h.healed:
		h.healed <- err // for a second Heal racing this one
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitSpan waits span from (t0, h0); zero spans return at once. It returns
// false when the schedule stops or release closes first.
func (s *Schedule) waitSpan(ctx context.Context, span plan.Span, t0 time.Time, h0 uint64, release <-chan struct{}) bool {
	var d time.Duration
	switch {
	case span.Blocks > 0:
		for s.env.Height() < h0+uint64(span.Blocks) {
			if !s.sleep(ctx, pollHeight, release) {
				return false
			}
		}
		return true
	case span.Slots > 0:
		d = time.Duration(span.Slots) * s.env.Plan.Topology.Slot.Std()
	default:
		d = span.Wall.Std()
	}
	return s.sleep(ctx, time.Until(t0.Add(d)), release)
}

// sleep waits d; it returns false when the schedule stops, ctx ends or
// release (nil: never) closes first.
func (s *Schedule) sleep(ctx context.Context, d time.Duration, release <-chan struct{}) bool {
	if d <= 0 {
		return true // due now: a fault due at the drive start always starts
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.stop:
		return false
	case <-release:
		return false
	case <-ctx.Done():
		return false
	}
}

// run drives one fault from start to heal.
func (s *Schedule) run(ctx context.Context, f plan.Fault, start time.Time, base uint64) {
	if !s.waitSpan(ctx, f.At, start, base, nil) {
		s.emit(f, Skipped, nil)
		return
	}
	err := s.apply(ctx, f)
	s.emit(f, Started, err)
	if err != nil {
		s.fail(fmt.Errorf("fault %s (%s): %w", f.ID, f.Kind, err))
	}
	if err := s.holdAndHeal(ctx, f, nil); err != nil {
		s.fail(err)
	}
}

// holdAndHeal keeps f for its length (until the run ends when it has none,
// or until release closes) and heals it.
func (s *Schedule) holdAndHeal(ctx context.Context, f plan.Fault, release <-chan struct{}) error {
	length := f.Duration
	if f.Kind == plan.FaultKill {
		length = f.RestartAfter()
	}
	t0, h0 := time.Now(), s.env.Height()
	if !length.IsZero() {
		s.waitSpan(ctx, length, t0, h0, release)
	} else {
		s.sleep(ctx, 1<<62, release) // until the run ends
	}
	timeout := s.env.HealTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := s.heal(hctx, f)
	s.emit(f, Healed, err)
	if err != nil {
		return fmt.Errorf("heal fault %s (%s): %w", f.ID, f.Kind, err)
	}
	return nil
}

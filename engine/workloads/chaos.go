package workloads

import (
	"context"
	"errors"
	"fmt"
	"github.com/nomosrun/nomosrun/internal/ctxtime"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/runners"
)

// Chaos restarts a random eligible node after a random delay in
// [min, max], never a node still within its cooldown after its last restart,
// and never the only validator.
type Chaos struct {
	id      string
	cfg     plan.ChaosRestart
	targets []string
	c       *counters
}

// ChaosTargets returns the nodes chaos_restart may restart: the plan's
// targets (or every node of the enabled roles), without validators when
// there is only one.
func ChaosTargets(cfg plan.ChaosRestart, p *plan.Plan) []string {
	role := map[string]plan.Role{}
	for _, n := range p.Topology.Nodes {
		role[n.Name] = n.Role
	}
	cands := cfg.Targets
	if len(cands) == 0 {
		for _, n := range p.Topology.Nodes {
			if n.Role == plan.RoleValidator && cfg.Validators || n.Role == plan.RoleExecutor && cfg.Executors {
				cands = append(cands, n.Name)
			}
		}
	}
	var out []string
	for _, n := range cands {
		if role[n] == plan.RoleValidator && p.Topology.Validators <= 1 {
			continue // restarting the only validator stops the chain
		}
		out = append(out, n)
	}
	return out
}

func newChaos(id string, cfg plan.ChaosRestart, p *plan.Plan) (*Chaos, error) {
	if cfg.MinDelay > cfg.MaxDelay {
		cfg.MinDelay, cfg.MaxDelay = cfg.MaxDelay, cfg.MinDelay
	}
	if cfg.MinDelay <= 0 {
		return nil, fmt.Errorf("workload %s: chaos restart min delay must be positive", id)
	}
	return &Chaos{id: id, cfg: cfg, targets: ChaosTargets(cfg, p), c: newCounters(id, "restarts")}, nil
}

// ID implements Workload.
func (c *Chaos) ID() string { return c.id }

// Kind implements Workload.
func (c *Chaos) Kind() plan.WorkloadKind { return plan.WorkloadChaosRestart }

// Counts implements Workload.
func (c *Chaos) Counts() map[string]int { return c.c.Counts() }

// restartTimeout bounds one restart.
const restartTimeout = 2 * time.Minute

// Run implements Workload; it restarts nodes until ctx ends.
func (c *Chaos) Run(ctx context.Context, env *Env) error {
	r, ok := env.Cluster.(runners.Restarter)
	if !ok {
		return errors.New("chaos restart workload requires node control")
	}
	if len(c.targets) == 0 {
		return errors.New("chaos restart workload has no eligible targets")
	}
	rng := env.rng(c.id)
	ready := map[string]time.Time{} // zero: never restarted
	for {
		delay := c.cfg.MinDelay.Std()
		if span := c.cfg.MaxDelay.Std() - delay; span > 0 {
			delay += time.Duration(rng.Int64N(int64(span) + 1))
		}
		if ctxtime.Sleep(ctx, delay) != nil {
			return nil
		}
		// Wait until some target's cooldown has expired.
		var eligible []string
		for {
			now, next := time.Now(), time.Time{}
			eligible = eligible[:0]
			for _, t := range c.targets {
				if !ready[t].After(now) {
					eligible = append(eligible, t)
				} else if next.IsZero() || ready[t].Before(next) {
					next = ready[t]
				}
			}
			if len(eligible) > 0 {
				break
			}
			if ctxtime.Sleep(ctx, time.Until(next)) != nil {
				return nil
			}
		}
		target := eligible[rng.IntN(len(eligible))]
		// A restart under way completes when the window ends meanwhile: a
		// node left stopped would be judged as if it had crashed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restartTimeout)
		err := r.Restart(rctx, target)
		cancel()
		if err != nil {
			return fmt.Errorf("node restart failed: %s: %w", target, err)
		}
		ready[target] = time.Now().Add(c.cfg.TargetCooldown.Std())
		c.c.add(env, "restarts", 1)
		if env.Restarted != nil {
			env.Restarted(c.id, target)
		}
		env.Log.Info("chaos restart", "workload", c.id, "node", target)
	}
}

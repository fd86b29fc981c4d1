package starlib

import (
	"time"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// The chaos_restart defaults of the Rust framework.
const (
	defaultMinDelay       = 10 * time.Second
	defaultMaxDelay       = 30 * time.Second
	defaultTargetCooldown = 60 * time.Second
)

var workloadBuiltins = []entry{
	{"transactions", `transactions(rate=1, users=None)`,
		"Transaction workload: rate transactions per block, from users distinct wallets (default all); each wallet is spent once. " +
			"Attaches expect_tx_inclusion(min_ratio=0.5).",
		ClassStep, transactions},
	{"da", `da(channel_rate=1, blob_rate=1, headroom=20)`,
		"Data-availability workload: channel inscriptions and blob dispersal through the executors (needs an executor). " +
			"Attaches expect_da_inclusion(min_ratio=0.8).",
		ClassStep, da},
	{"chaos_restart", `chaos_restart(validators=True, executors=True, min_delay="10s", max_delay="30s", target_cooldown="60s")`,
		"Restarts random nodes, waiting a random delay in [min_delay, max_delay] between restarts and target_cooldown per node. " +
			"Never restarts the only validator. min_delay > max_delay is swapped, target_cooldown < min_delay is raised to min_delay, " +
			"and validators=False with executors=False enables both (each with a warning).",
		ClassStep, chaosRestart},
}

func transactions(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	rate := 1
	var users starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "rate?", &rate, "users??", &users); err != nil {
		return nil, err
	}
	tx := &plan.Transactions{Rate: rate}
	if rate < 1 || rate > 1_000_000 {
		return nil, argError(b, "rate must be a positive number of transactions per block, got %d", rate)
	}
	if users != starlark.None {
		n, err := starlark.AsInt32(users)
		if err != nil || n < 1 {
			return nil, argError(b, "users must be a positive integer, got %s", users)
		}
		tx.Users = n
	}
	return addWorkload(b, s, plan.Workload{Kind: plan.WorkloadTransactions, Pos: callerPos(thread), Transactions: tx})
}

func da(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	d := &plan.DA{ChannelRate: 1, BlobRate: 1, Headroom: 20}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"channel_rate?", &d.ChannelRate, "blob_rate?", &d.BlobRate, "headroom?", &d.Headroom); err != nil {
		return nil, err
	}
	switch {
	case d.ChannelRate < 1 || d.ChannelRate > 10_000:
		return nil, argError(b, "channel_rate must be between 1 and 10000, got %d", d.ChannelRate)
	case d.BlobRate < 1 || d.BlobRate > 10_000:
		return nil, argError(b, "blob_rate must be between 1 and 10000, got %d", d.BlobRate)
	case d.Headroom < 0 || d.Headroom > 1000:
		return nil, argError(b, "headroom must be a percentage between 0 and 1000, got %d", d.Headroom)
	}
	return addWorkload(b, s, plan.Workload{Kind: plan.WorkloadDA, Pos: callerPos(thread), DA: d})
}

func chaosRestart(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := stateFrom(thread)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	vals, execs := true, true
	minD, maxD := durationArg{d: defaultMinDelay}, durationArg{d: defaultMaxDelay}
	cool := durationArg{d: defaultTargetCooldown}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "validators?", &vals, "executors?", &execs,
		"min_delay?", &minD, "max_delay?", &maxD, "target_cooldown?", &cool); err != nil {
		return nil, err
	}
	pos := callerPos(thread)
	for _, d := range []struct {
		name string
		arg  *durationArg
		def  time.Duration
	}{{"min delay", &minD, defaultMinDelay}, {"max delay", &maxD, defaultMaxDelay}, {"target cooldown", &cool, defaultTargetCooldown}} {
		if d.arg.d < 0 {
			return nil, argError(b, "chaos restart %s must not be negative, got %s", d.name, d.arg.d)
		}
		if d.arg.d == 0 {
			s.builder.Warn(pos, "chaos restart %s must be non-zero; keeping %s", d.name, d.def)
			d.arg.d = d.def
		}
	}
	if minD.d > maxD.d {
		s.builder.Warn(pos, "chaos restart min delay %s exceeds max delay %s; swapping", minD.d, maxD.d)
		minD, maxD = maxD, minD
	}
	if cool.d < minD.d {
		s.builder.Warn(pos, "chaos restart target cooldown %s must be >= min delay %s; bumping cooldown", cool.d, minD.d)
		cool.d = minD.d
	}
	if !vals && !execs {
		s.builder.Warn(pos, "chaos restart requires at least one node group; enabling validators and executors")
		vals, execs = true, true
	}
	c := &plan.ChaosRestart{Validators: vals, Executors: execs, MinDelay: plan.Duration(minD.d),
		MaxDelay: plan.Duration(maxD.d), TargetCooldown: plan.Duration(cool.d)}
	return addWorkload(b, s, plan.Workload{Kind: plan.WorkloadChaosRestart, Pos: pos, ChaosRestart: c})
}

func addWorkload(b *starlark.Builtin, s *state, w plan.Workload) (starlark.Value, error) {
	id, err := s.builder.AddWorkload(w)
	if err != nil {
		return nil, argError(b, "%v", err)
	}
	return starlark.String(id), nil
}

package starlib

import (
	"context"
	"errors"
	"slices"

	"go.starlark.net/starlark"

	"github.com/nomosrun/nomosrun/engine/plan"
)

const actionDoc = " Fails unless the hook declared the capability in uses=."

const faultActionDoc = " Starts now; the arguments are those of the top-level builtin of the same name, without at=. " +
	"Returns the fault id for ctx.heal; the fault heals after duration, by ctx.heal or when the run ends." + actionDoc

var ctxActions = []ctxMember{
	{name: "transfer", sig: "ctx.transfer(wallet)",
		doc: "Submits seeded wallet's (indices from 0, see wallets()) transfer of its genesis note and returns the " +
			"transaction hash; each wallet's note can be spent once per run. The transfer counts under the hook in the report.",
		method: ctxTransfer},
	{name: "kill", sig: "ctx.kill(nodes, restart_after=None)", doc: "Crashes the nodes, as kill()." + faultActionDoc,
		method: faultAction(parseKill)},
	{name: "pause", sig: "ctx.pause(nodes, duration=None)", doc: "Freezes the nodes, as pause()." + faultActionDoc,
		method: faultAction(parseWindow)},
	{name: "partition", sig: "ctx.partition(groups, duration=None, via=None)", doc: "Cuts the network into groups, as partition()." + faultActionDoc,
		method: faultAction(parsePartition)},
	{name: "isolate", sig: "ctx.isolate(nodes, duration=None, via=None)", doc: "Cuts the nodes off from every peer, as isolate()." + faultActionDoc,
		method: faultAction(parseWindow)},
	{name: "latency", sig: `ctx.latency(nodes, delay, jitter="0s", loss=0.0, duration=None, via=None)`,
		doc: "Delays and drops the messages on the nodes' links, as latency()." + faultActionDoc, method: faultAction(parseLatency)},
	{name: "clock_skew", sig: "ctx.clock_skew(nodes, offset, duration=None)",
		doc:    "Shifts the nodes' clocks by offset, as clock_skew(), for duration (None: until healed or the run ends)." + faultActionDoc,
		method: faultAction(parseClockSkew)},
	{name: "heal", sig: "ctx.heal(fault_id)", doc: "Heals a fault a hook started, given the id its action returned.",
		method: ctxHeal},
	{name: "stop", sig: "ctx.stop(node)", doc: "Stops the node; it stays down until ctx.start. Needs uses=[\"kill\"].",
		method: nodeAction(func(c *runCtx, ctx context.Context, n string) error { return c.rc.StopNode(ctx, n) })},
	{name: "start", sig: "ctx.start(node)", doc: "Starts a stopped node again. Needs uses=[\"kill\"].",
		method: nodeAction(func(c *runCtx, ctx context.Context, n string) error { return c.rc.StartNode(ctx, n) })},
	{name: "restart", sig: "ctx.restart(node)", doc: "Restarts the node. Needs uses=[\"restart\"].",
		method: nodeAction(func(c *runCtx, ctx context.Context, n string) error { return c.rc.Restart(ctx, n) })},
}

// allowed fails an action whose capability the hook did not declare: the
// plan-time check of the runner's capabilities only covers uses=.
func (c *runCtx) allowed(b *starlark.Builtin) error {
	need, ok := plan.ActionCapability(b.Name())
	if !ok || slices.Contains(c.hook.Uses, need) {
		return nil
	}
	uses := append(slices.Clone(c.hook.Uses), need)
	slices.Sort(uses)
	return argError(b, "needs %q in the hook's uses=; add uses=[%s] to the %s() call at %s",
		need, capNames(uses), c.hook.Kind, c.hook.Pos)
}

// faultAction makes the ctx action of a fault kind from the parser its
// top-level builtin uses.
func faultAction(parse faultParser) func(*runCtx, *starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := c.allowed(b); err != nil {
			return nil, err
		}
		f, err := parse(b.Name(), args, kwargs, false)
		if err != nil {
			return nil, err
		}
		f.Pos = callerPos(thread)
		if f, err = c.run.plan.ResolveFault(f); err != nil {
			return nil, errors.New(err.Error()) // its messages name the fault kind already
		}
		id, err := c.rc.StartFault(c.ctx, c.hook, f)
		if err != nil {
			return nil, c.engineError(b, err)
		}
		c.run.faults[id] = true
		return starlark.String(id), nil
	}
}

func ctxHeal(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var id string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fault_id", &id); err != nil {
		return nil, err
	}
	if !c.run.faults[id] {
		return nil, argError(b, "no fault %q started by a hook of this run; pass the id a fault action (ctx.partition, ...) returned", id)
	}
	if err := c.rc.Heal(c.ctx, id); err != nil {
		return nil, c.engineError(b, err)
	}
	return starlark.None, nil
}

// nodeAction makes stop, start and restart: one node by name.
func nodeAction(do func(*runCtx, context.Context, string) error) func(*runCtx, *starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := c.allowed(b); err != nil {
			return nil, err
		}
		var node string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "node", &node); err != nil {
			return nil, err
		}
		if err := checkNode(c.run.plan, node); err != nil {
			return nil, argError(b, "%v", err)
		}
		if err := do(c, c.ctx, node); err != nil {
			return nil, c.engineError(b, err)
		}
		return starlark.None, nil
	}
}

func ctxTransfer(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var wallet int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "wallet", &wallet); err != nil {
		return nil, err
	}
	n := c.run.plan.Wallets.Count
	switch {
	case n == 0:
		return nil, argError(b, "the scenario seeds no wallets; add wallets(n)")
	case wallet < 0 || wallet >= n:
		return nil, argError(b, "wallets are numbered 0..%d, got %d", n-1, wallet)
	}
	hash, err := c.rc.Transfer(c.ctx, c.hook, wallet)
	if err != nil {
		return nil, c.engineError(b, err)
	}
	return starlark.String(hash), nil
}

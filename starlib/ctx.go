package starlib

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/nomosrun/nomosrun/engine/hooks"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// runCtx is the ctx a hook function receives: the run as the engine sees
// it, the actions the hook may take, and the run's state and random source.
// It is valid for one call only, so a ctx kept in ctx.state cannot act
// after its call returned.
type runCtx struct {
	ctx  context.Context
	rc   hooks.Context
	hook plan.Hook
	run  *hookRun
	done bool
	// failed is an error of the engine behind an action: the call stops
	// with it rather than with a script error.
	failed error
}

var (
	_ starlark.HasAttrs = (*runCtx)(nil)
	_ starlark.Value    = (*runCtx)(nil)
)

func (c *runCtx) String() string        { return fmt.Sprintf("<run context of hook %s>", c.hook.Describe()) }
func (c *runCtx) Type() string          { return "run_context" }
func (c *runCtx) Freeze()               {}
func (c *runCtx) Truth() starlark.Bool  { return starlark.True }
func (c *runCtx) Hash() (uint32, error) { return 0, errors.New("unhashable type: run_context") }

// Attr implements starlark.HasAttrs: attributes are read when accessed,
// methods are bound to this ctx.
func (c *runCtx) Attr(name string) (starlark.Value, error) {
	m, ok := ctxIndex()[name]
	if !ok {
		return nil, nil
	}
	if c.done {
		return nil, fmt.Errorf("ctx.%s: this ctx belongs to an earlier call of hook %s; use the ctx passed to the current call",
			name, c.hook.Describe())
	}
	if m.attr != nil {
		return m.attr(c)
	}
	method := m.method
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if c.done {
			return nil, argError(b, "this ctx belongs to an earlier call of hook %s; use the ctx passed to the current call", c.hook.Describe())
		}
		return method(c, thread, b, args, kwargs)
	}), nil
}

// AttrNames implements starlark.HasAttrs.
func (c *runCtx) AttrNames() []string {
	names := make([]string, 0, len(ctxTable()))
	for _, m := range ctxTable() {
		names = append(names, m.name)
	}
	sort.Strings(names)
	return names
}

// ctxMember is an attribute (attr) or a method of ctx, with its reference.
type ctxMember struct {
	name, sig, doc string
	attr           func(*runCtx) (starlark.Value, error)
	method         func(*runCtx, *starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)
}

// ctxIndex finds the members of ctx by name; ctxTable lists them in
// reference order (the actions are in ctxactions.go).
var (
	ctxTable = sync.OnceValue(func() []ctxMember { return slices.Concat(ctxReads, ctxActions, ctxRecords) })
	ctxIndex = sync.OnceValue(func() map[string]ctxMember {
		out := map[string]ctxMember{}
		for _, m := range ctxTable() {
			out[m.name] = m
		}
		return out
	})
)

var ctxReads = []ctxMember{
	{name: "elapsed", sig: "ctx.elapsed", doc: "Seconds (a float) since the drive phase started.",
		attr: func(c *runCtx) (starlark.Value, error) { return starlark.Float(c.rc.Elapsed().Seconds()), nil }},
	{name: "slot", sig: "ctx.slot", doc: "The current slot by the cluster's clock.",
		attr: func(c *runCtx) (starlark.Value, error) { return starlark.MakeUint64(c.rc.Slot()), nil }},
	{name: "height", sig: "ctx.height", doc: "The height of the canonical chain observed so far.",
		attr: func(c *runCtx) (starlark.Value, error) { return starlark.MakeUint64(c.rc.Height()), nil }},
	{name: "nodes", sig: "ctx.nodes",
		doc: "The nodes in topology order, as last observed: each has name, role, height, slot, tip, lib, mode and " +
			"error (None when the node answered its last poll).",
		attr: func(c *runCtx) (starlark.Value, error) {
			var out []starlark.Value
			for _, n := range c.rc.Nodes() {
				out = append(out, nodeValue(n))
			}
			return frozenList(out), nil
		}},
	{name: "node", sig: "ctx.node(name)", doc: "The node called name, as in ctx.nodes.", method: ctxNode},
	{name: "peers", sig: "ctx.peers(name)", doc: "The number of peers the node called name is connected to, as it reports it now.",
		method: ctxPeers},
	{name: "block", sig: "ctx.block(id)", doc: "The observed block with that id (id, parent, height, slot, txs), or None.",
		method: ctxBlock},
	{name: "chain", sig: "ctx.chain(from_height=0, to_height=None)",
		doc:    "The canonical blocks with heights from_height to to_height (inclusive; None: the current height), lowest first.",
		method: ctxChain},
	{name: "timeline", sig: "ctx.timeline",
		doc: "The faults and restarts so far, in time order: each has at (seconds since the drive phase started), kind, " +
			"fault (the fault id, None for a restart), phase (\"start\", \"heal\", None for a restart) and nodes.",
		attr: func(c *runCtx) (starlark.Value, error) {
			var out []starlark.Value
			for _, e := range c.rc.Timeline() {
				out = append(out, structValue("event", starlark.StringDict{
					"at": starlark.Float(e.At.Seconds()), "kind": starlark.String(e.Kind),
					"fault": noneIfEmpty(e.Fault), "phase": noneIfEmpty(e.Phase), "nodes": stringsValue(e.Nodes)}))
			}
			return frozenList(out), nil
		}},
	{name: "workloads", sig: "ctx.workloads", doc: "Each workload's counters, as a dict of dicts (a copy).",
		attr: func(c *runCtx) (starlark.Value, error) {
			v, err := ToStarlark(c.rc.Workloads())
			if err != nil {
				return nil, err
			}
			v.Freeze()
			return v, nil
		}},
	{name: "state", sig: "ctx.state",
		doc: "A dict that persists across every hook call of the run, and the only place a hook keeps what it must " +
			"remember (module globals are frozen once the script is loaded). Every hook sees the same dict.",
		attr: func(c *runCtx) (starlark.Value, error) { return c.run.state, nil }},
	{name: "rand", sig: "ctx.rand",
		doc: "A random source seeded from --seed, shared by every hook of the run: rand.int(n) in [0, n), rand.float() " +
			"in [0, 1), rand.choice(seq). Hooks run in a fixed order, so a seed gives the same draws each run.",
		attr: func(c *runCtx) (starlark.Value, error) { return c.run.rand, nil }},
}

var ctxRecords = []ctxMember{
	{name: "record", sig: "ctx.record(name, value)",
		doc: "Appends the number value to the series called name, at the current time; the report keeps and plots it.",
		method: func(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			var value floatArg
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "value", &value); err != nil {
				return nil, err
			}
			if name == "" {
				return nil, argError(b, "name is empty; name the series, e.g. \"finality_lag\"")
			}
			c.rc.Record(c.hook, name, float64(value))
			return starlark.None, nil
		}},
	{name: "log", sig: "ctx.log(*args)", doc: "Prints its arguments, separated by spaces, in the run's progress output, like print().",
		method: func(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(kwargs) > 0 {
				return nil, argError(b, "takes no keyword arguments")
			}
			c.rc.Log(c.hook, joinArgs(args))
			return starlark.None, nil
		}},
	{name: "fail", sig: "ctx.fail(msg)",
		doc: "Stops the run at once as a script error at the position of this call, with msg; the cluster is torn down as after any failure.",
		method: func(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var msg starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg", &msg); err != nil {
				return nil, err
			}
			return nil, argError(b, "%s", joinArgs(starlark.Tuple{msg}))
		}},
}

func ctxNode(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	nodes := c.rc.Nodes()
	for _, n := range nodes {
		if n.Name == name {
			return nodeValue(n), nil
		}
	}
	return nil, argError(b, "%v", unknownNode(c.run.plan, name))
}

func ctxPeers(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	if err := checkNode(c.run.plan, name); err != nil {
		return nil, argError(b, "%v", err)
	}
	peers, err := c.rc.Peers(c.ctx, name)
	if err != nil {
		return nil, c.engineError(b, err)
	}
	return starlark.MakeInt(peers), nil
}

func ctxBlock(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var id string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "id", &id); err != nil {
		return nil, err
	}
	blk, ok := c.rc.Block(id)
	if !ok {
		return starlark.None, nil
	}
	return blockValue(blk), nil
}

func ctxChain(c *runCtx, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var from, to starlark.Value = starlark.MakeInt(0), starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "from_height?", &from, "to_height?", &to); err != nil {
		return nil, err
	}
	lo, err := height(b, "from_height", from, 0)
	if err != nil {
		return nil, err
	}
	hi, err := height(b, "to_height", to, c.rc.Height())
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return frozenList(nil), nil
	}
	var out []starlark.Value
	for _, blk := range c.rc.Chain(lo, hi) {
		out = append(out, blockValue(blk))
	}
	return frozenList(out), nil
}

// height unpacks a block height: a non-negative int, or None for def.
func height(b *starlark.Builtin, what string, v starlark.Value, def uint64) (uint64, error) {
	if v == starlark.None {
		return def, nil
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, argError(b, "%s is %s, want a height (an int) or None", what, v.Type())
	}
	h, ok := i.Uint64()
	if !ok {
		return 0, argError(b, "%s must be a non-negative height, got %s", what, v)
	}
	return h, nil
}

// engineError remembers an error of the engine behind an action, so the
// call ends with it (an infrastructure failure, not a script error).
func (c *runCtx) engineError(b *starlark.Builtin, err error) error {
	if c.failed == nil {
		c.failed = fmt.Errorf("ctx.%s: %w", b.Name(), err)
	}
	return argError(b, "%v", err)
}

func nodeValue(n hooks.NodeState) starlark.Value {
	return structValue("node", starlark.StringDict{
		"name": starlark.String(n.Name), "role": starlark.String(n.Role), "height": starlark.MakeUint64(n.Height),
		"slot": starlark.MakeUint64(n.Slot), "tip": starlark.String(n.Tip), "lib": starlark.String(n.LIB),
		"mode": starlark.String(n.Mode), "error": noneIfEmpty(n.Err)})
}

func blockValue(b hooks.Block) starlark.Value {
	return structValue("block", starlark.StringDict{
		"id": starlark.String(b.ID), "parent": starlark.String(b.Parent), "height": starlark.MakeUint64(b.Height),
		"slot": starlark.MakeUint64(b.Slot), "txs": stringsValue(b.Txs)})
}

func structValue(name string, fields starlark.StringDict) starlark.Value {
	s := starlarkstruct.FromStringDict(starlark.String(name), fields)
	s.Freeze()
	return s
}

func stringsValue(ss []string) starlark.Value {
	out := make([]starlark.Value, len(ss))
	for i, s := range ss {
		out[i] = starlark.String(s)
	}
	return frozenList(out)
}

func frozenList(vs []starlark.Value) *starlark.List {
	l := starlark.NewList(vs)
	l.Freeze()
	return l
}

func noneIfEmpty(s string) starlark.Value {
	if s == "" {
		return starlark.None
	}
	return starlark.String(s)
}

// joinArgs formats values the way print() does: strings bare, others as
// Starlark writes them, separated by spaces.
func joinArgs(args starlark.Tuple) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := starlark.AsString(a); ok {
			parts[i] = s
		} else {
			parts[i] = a.String()
		}
	}
	return strings.Join(parts, " ")
}

// checkNode reports a name that is not a node of the plan's topology.
func checkNode(p *plan.Plan, name string) error {
	if nodes, _ := p.Topology.Resolve(plan.SelectNames(name)); len(nodes) == 1 {
		return nil
	}
	return unknownNode(p, name)
}

func unknownNode(p *plan.Plan, name string) error {
	names := make([]string, len(p.Topology.Nodes))
	for i, n := range p.Topology.Nodes {
		names[i] = n.Name
	}
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return fmt.Errorf("no node %q (have %s)", name, strings.Join(names, ", "))
}

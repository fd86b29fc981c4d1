package expect

import (
	"context"
	"fmt"
)

// Custom evaluates a Starlark function through Env.Custom against the run
// snapshot (see Snapshot).
type Custom struct {
	Func string
}

// Evaluate implements Expectation. The function's message is the evidence.
func (c *Custom) Evaluate(ctx context.Context, env *Env) (Verdict, error) {
	if env.Custom == nil {
		return Verdict{}, fmt.Errorf("custom expectation %s: no Starlark evaluator was given to the run", c.Func)
	}
	var snap map[string]any
	if env.Snapshot != nil {
		snap = env.Snapshot()
	}
	if len(snap) == 0 {
		return Verdict{}, noSamples("custom expectation %s: empty snapshot", c.Func)
	}
	ok, msg, err := env.Custom(ctx, c.Func, snap)
	if err != nil { // the function is broken: what broke is the evidence
		return Verdict{Evidence: map[string]any{"error": err.Error()}},
			fmt.Errorf("custom expectation %s: %v", c.Func, err)
	}
	v := Verdict{Evidence: map[string]any{"message": msg}}
	if !ok { // the message says it; a summary would repeat it
		if msg == "" {
			msg = "returned False"
		}
		return v, fmt.Errorf("custom expectation %s: %s", c.Func, msg)
	}
	v.Summary = msg
	return v, nil
}

// Snapshot builds the read-only, JSON-like snapshot custom expectations
// see (strings, ints, lists and dicts only):
//
//	{"nodes": [{"name", "role", "height", "tip", "lib", "mode", "error"}, ...],  # topology order
//	 "blocks": {"seen", "orphaned", "transactions", "height"},                  # canonical chain
//	 "workloads": {id: {counter: n}},
//	 "expected_blocks": n}
//
// A node that did not answer has height 0, empty ids and an "error".
func Snapshot(env *Env, workloads map[string]map[string]int) map[string]any {
	nodes := []any{}
	states := env.Feed.Nodes()
	for _, n := range env.Nodes {
		st := states[n.Name]
		m := map[string]any{"name": n.Name, "role": string(n.Role), "height": 0, "tip": "", "lib": "", "mode": "", "error": ""}
		if st.Valid {
			m["height"] = int(st.Info.Height)
			m["tip"] = st.Info.Tip
			m["lib"] = st.Info.LIB
			m["mode"] = st.Info.Mode
		}
		if st.Err != nil {
			m["error"] = st.Err.Error()
		}
		nodes = append(nodes, m)
	}
	fs := env.Feed.Stats()
	wl := map[string]any{}
	for id, counts := range workloads {
		c := map[string]any{}
		for k, v := range counts {
			c[k] = v
		}
		wl[id] = c
	}
	return map[string]any{
		"nodes": nodes,
		"blocks": map[string]any{
			"seen": fs.Blocks, "orphaned": fs.Orphaned, "transactions": fs.Transactions, "height": int(fs.Height),
		},
		"workloads":       wl,
		"expected_blocks": env.Plan.Derived.ExpectedBlocks,
	}
}

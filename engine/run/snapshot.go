package run

import "github.com/nomosrun/nomosrun/engine/report"

// historySnapshot is the recorded history as custom expectations read it,
// in plain values (strings, ints, floats, lists, dicts), times in seconds
// since the run started:
//
//	{"heights": {node: [{"at", "height", "lib"}, ...]},   # every poll of every node
//	 "chain": [{"id", "parent", "height", "slot", "transactions"}, ...],  # canonical, genesis first
//	 "timeline": [{"at", "kind", "name", "nodes", "detail"}, ...],  # phases, faults, restarts
//	 "series": {name: [{"at", "value"}, ...]},   # what hooks recorded
//	 "window": {"start", "end"}}
func (x *execution) historySnapshot() map[string]any {
	x.mu.Lock()
	res := *x.res
	x.mu.Unlock()
	heights := map[string]any{}
	for _, s := range res.Heights {
		l, _ := heights[s.Node].([]any)
		heights[s.Node] = append(l, map[string]any{"at": s.At.Std().Seconds(), "height": int(s.Height), "lib": int(s.LIB)})
	}
	chain := []any{}
	for height, id := range x.feed.Canonical() {
		b, _, ok := x.feed.Block(id)
		m := map[string]any{"id": id, "parent": "", "height": height, "slot": 0, "transactions": 0}
		if ok && b != nil {
			m["parent"], m["slot"], m["transactions"] = b.Header.Parent, int(b.Header.Slot), len(b.Transactions)
		}
		chain = append(chain, m)
	}
	timeline := []any{}
	for _, ev := range res.Timeline {
		timeline = append(timeline, map[string]any{"at": ev.At.Std().Seconds(), "kind": ev.Kind, "name": ev.Name,
			"nodes": anyList(ev.Nodes), "detail": ev.Detail})
	}
	series := map[string]any{}
	for _, s := range res.Series {
		pts := []any{}
		for _, p := range s.Points {
			pts = append(pts, map[string]any{"at": p.At.Std().Seconds(), "value": p.Value})
		}
		series[s.Name] = pts
	}
	return map[string]any{"heights": heights, "chain": chain, "timeline": timeline, "series": series,
		"window": windowSnapshot(res.Window)}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func windowSnapshot(w report.Window) map[string]any {
	return map[string]any{"start": w.Start.Std().Seconds(), "end": w.End.Std().Seconds()}
}

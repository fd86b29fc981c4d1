package expect

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/engine/plan"
)

// Query is a metric query (see metrics.Query for the syntax).
type Query = metrics.Query

// ParseQuery parses a metric query.
func ParseQuery(s string) (Query, error) { return metrics.ParseQuery(s) }

// Metric checks a threshold "Query Op Value". The per-node values come from
// env.Metrics (the nodes' /metrics by default, or a Prometheus server); the
// aggregation and the threshold are applied here, the same way for both.
type Metric struct {
	Query Query
	Op    plan.CompareOp
	Value float64
}

// MetricEvidence is what a metric threshold judged.
type MetricEvidence struct {
	Query string             `json:"query"`
	Op    string             `json:"op"`
	Value float64            `json:"value"`
	Nodes map[string]float64 `json:"nodes"`
	// Aggregate is the aggregated value when the query aggregates.
	Aggregate *float64 `json:"aggregate,omitempty"`
	// Unanswered names the nodes that could not be asked, with the reason.
	Unanswered []string `json:"unanswered,omitempty"`
}

// Evaluate implements Expectation. A node that does not answer fails the
// expectation: its value might have violated the threshold.
func (m *Metric) Evaluate(ctx context.Context, env *Env) (Verdict, error) {
	q := env.Metrics
	if q == nil {
		q = metrics.Scrape{}
	}
	nodes := make([]metrics.Target, len(env.Nodes))
	for i, n := range env.Nodes {
		nodes[i] = metrics.Target{Name: n.Name, Role: string(n.Role), Scrape: func(ctx context.Context) (string, error) {
			return retry(ctx, env, infoTries, func() (string, error) { return n.Client.Metrics(ctx) })
		}}
	}
	vals, err := q.NodeValues(ctx, m.Query.Selector, nodes)
	if err != nil {
		return Verdict{}, err
	}
	values := vals.ByNode
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(values) == 0 {
		msg := fmt.Sprintf("no node exposes a series matching %s", m.Query)
		if len(vals.Issues) > 0 {
			msg += " (" + strings.Join(vals.Issues, "; ") + ")"
		}
		return Verdict{}, noSamples("%s", msg)
	}
	ev := MetricEvidence{Query: m.Query.String(), Op: string(m.Op), Value: m.Value, Nodes: values, Unanswered: vals.Issues}
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%g", n, values[n]))
	}
	v := Verdict{Evidence: &ev, Summary: fmt.Sprintf("%s over %d node(s): %s", m.Query, len(names), strings.Join(parts, ", "))}
	var issues []string
	if m.Query.Agg != "" {
		agg := metrics.Aggregate(m.Query.Agg, names, values)
		ev.Aggregate = &agg
		v.Summary += fmt.Sprintf("; %s = %g", m.Query.Agg, agg)
		if !m.Op.Compare(agg, m.Value) {
			issues = append(issues, fmt.Sprintf("metric %s = %g over %d node(s), want %s %g", m.Query, agg, len(names), m.Op, m.Value))
		}
	} else {
		var bad []string
		for _, n := range names {
			if !m.Op.Compare(values[n], m.Value) {
				bad = append(bad, fmt.Sprintf("%s=%g", n, values[n]))
			}
		}
		if len(bad) > 0 {
			issues = append(issues, fmt.Sprintf("metric %s %s %g violated on %s", m.Query, m.Op, m.Value, strings.Join(bad, ", ")))
		}
	}
	if len(vals.Issues) > 0 {
		issues = append(issues, fmt.Sprintf("metric %s: %d node(s) did not answer, so the threshold could not be checked on them: %s",
			m.Query, len(vals.Issues), strings.Join(vals.Issues, "; ")))
	}
	if len(issues) > 0 {
		return v, fmt.Errorf("%s", strings.Join(issues, "; "))
	}
	return v, nil
}

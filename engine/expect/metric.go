package expect

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/nomosrun/nomosrun/engine/metrics"
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
	Op    string
	Value float64
}

// Capture implements Expectation.
func (*Metric) Capture(*Env) {}

func compare(a float64, op string, b float64) (bool, error) {
	switch op {
	case ">":
		return a > b, nil
	case ">=":
		return a >= b, nil
	case "<":
		return a < b, nil
	case "<=":
		return a <= b, nil
	case "==":
		return a == b, nil
	case "!=":
		return a != b, nil
	}
	return false, fmt.Errorf("unknown comparison %q (want >, >=, <, <=, == or !=)", op)
}

// Evaluate implements Expectation.
func (m *Metric) Evaluate(ctx context.Context, env *Env) error {
	q := env.Metrics
	if q == nil {
		q = metrics.Scrape{}
	}
	nodes := make([]metrics.Node, len(env.Nodes))
	for i, n := range env.Nodes {
		nodes[i] = metrics.Node{Name: n.Name, Role: string(n.Role), Scrape: func(ctx context.Context) (string, error) {
			return retry(ctx, env, infoTries, func() (string, error) { return n.Client.Metrics(ctx) })
		}}
	}
	vals, err := q.NodeValues(ctx, m.Query.Selector, nodes)
	if err != nil {
		return err
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
		return noSamples("%s", msg)
	}
	if m.Query.Agg != "" {
		v := metrics.Aggregate(m.Query.Agg, names, values)
		ok, err := compare(v, m.Op, m.Value)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("metric %s = %g over %d node(s), want %s %g", m.Query, v, len(names), m.Op, m.Value)
		}
		return nil
	}
	var bad []string
	for _, n := range names {
		ok, err := compare(values[n], m.Op, m.Value)
		if err != nil {
			return err
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("%s=%g", n, values[n]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("metric %s %s %g violated on %s", m.Query, m.Op, m.Value, strings.Join(bad, ", "))
	}
	return nil
}

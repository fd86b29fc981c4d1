// Package metrics answers the metric queries of expect_metric, either from
// the nodes' own /metrics pages or from a Prometheus-compatible server
// (NOMOS_METRICS_QUERY_URL), and writes the scrape targets of a run for
// such a server.
package metrics

import "github.com/nomosrun/nomosrun/engine/metrics/metricquery"

// Query is a metric query; see metricquery.Query for the syntax.
type Query = metricquery.Query

// Selector is the NAME{MATCHER,...} part of a Query.
type Selector = metricquery.Selector

// Matcher is one label condition of a Selector.
type Matcher = metricquery.Matcher

// ParseQuery parses a metric query (see metricquery.Parse).
func ParseQuery(s string) (Query, error) { return metricquery.Parse(s) }

// Aggregate folds per-node values with agg (sum, avg, min, max, count), in
// the order of names.
func Aggregate(agg string, names []string, values map[string]float64) float64 {
	var out float64
	for i, n := range names {
		v := values[n]
		switch {
		case agg == "min" && (i == 0 || v < out), agg == "max" && (i == 0 || v > out):
			out = v
		case agg == "sum" || agg == "avg":
			out += v
		}
	}
	switch agg {
	case "avg":
		out /= float64(len(names))
	case "count":
		out = float64(len(names))
	}
	return out
}

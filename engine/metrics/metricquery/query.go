// Package metricquery parses the metric queries of expect_metric. It is kept
// apart from package metrics, which asks nodes and Prometheus servers, so
// that plan validation can check a query's syntax without depending on
// HTTP clients or the Prometheus libraries.
package metricquery

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Query is a metric selector over the nodes, written
//
//	[AGG(]NAME[{MATCHER,...}][)]
//
// NAME is a metric family. A MATCHER is LABEL="value", LABEL!="value" or
// LABEL=~"regexp" (anchored); the labels node and role select nodes
// (node="validator-0", role="executor"). A node's value is the sum of the
// matching series it exposes (counters, gauges, untyped; histogram and
// summary sample counts). AGG folds the node values with sum, avg, min, max
// or count; without AGG every node that exposes the metric must satisfy a
// threshold on its own.
type Query struct {
	Agg string
	Selector
	text string
}

// Selector is the NAME{MATCHER,...} part of a Query.
type Selector struct {
	Name     string
	Matchers []Matcher
}

// Matcher is one label condition of a Selector.
type Matcher struct {
	Label, Op, Value string
	re               *regexp.Regexp
}

// Match reports whether a label value v satisfies the matcher.
func (m Matcher) Match(v string) bool {
	switch m.Op {
	case "!=":
		return v != m.Value
	case "=~":
		return m.re.MatchString(v)
	}
	return v == m.Value
}

// NodeLabel reports whether the matcher is on the node or role pseudo-label.
func (m Matcher) NodeLabel() bool { return m.Label == "node" || m.Label == "role" }

var (
	queryRE   = regexp.MustCompile(`^\s*(?:(sum|avg|min|max|count)\s*\(\s*(.*?)\s*\)|(.*?))\s*$`)
	selectRE  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?$`)
	matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
)

// Parse parses the query syntax documented on Query.
func Parse(s string) (Query, error) {
	m := queryRE.FindStringSubmatch(s)
	q := Query{Agg: m[1], text: strings.TrimSpace(s)}
	sel := m[2]
	if q.Agg == "" {
		sel = m[3]
	}
	sm := selectRE.FindStringSubmatch(sel)
	if sm == nil {
		return q, fmt.Errorf("metric query %q: want NAME, NAME{label=\"v\"} or AGG(NAME{...}) with AGG one of sum, avg, min, max, count", s)
	}
	q.Name = sm[1]
	if strings.TrimSpace(sm[2]) != "" {
		for _, part := range splitMatchers(sm[2]) {
			mm := matcherRE.FindStringSubmatch(part)
			if mm == nil {
				return q, fmt.Errorf("metric query %q: bad label matcher %q (want label=\"v\", label!=\"v\" or label=~\"re\")", s, strings.TrimSpace(part))
			}
			val, err := strconv.Unquote(`"` + mm[3] + `"`)
			if err != nil {
				return q, fmt.Errorf("metric query %q: bad label value %q", s, mm[3])
			}
			mt := Matcher{Label: mm[1], Op: mm[2], Value: val}
			if mt.Op == "=~" {
				if mt.re, err = regexp.Compile("^(?:" + val + ")$"); err != nil {
					return q, fmt.Errorf("metric query %q: bad regexp %q: %v", s, val, err)
				}
			}
			q.Matchers = append(q.Matchers, mt)
		}
	}
	return q, nil
}

// splitMatchers splits on commas outside quotes.
func splitMatchers(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			inQ = !inQ
		case r == ',' && !inQ:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// String returns the query as written.
func (q Query) String() string { return q.text }

// SelectsNode reports whether the node and role matchers admit a node.
func (s Selector) SelectsNode(node, role string) bool {
	for _, m := range s.Matchers {
		if m.Label == "node" && !m.Match(node) || m.Label == "role" && !m.Match(role) {
			return false
		}
	}
	return true
}

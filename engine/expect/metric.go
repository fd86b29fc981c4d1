package expect

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Query is a metric selector over the nodes' /metrics, written
//
//	[AGG(]NAME[{MATCHER,...}][)]
//
// NAME is a metric family. A MATCHER is LABEL="value", LABEL!="value" or
// LABEL=~"regexp" (anchored); the pseudo-labels node and role select nodes
// (node="validator-0", role="executor"). A node's value is the sum of the
// matching series it exposes (counters, gauges, untyped; histogram and
// summary sample counts). AGG folds the node values with sum, avg, min, max
// or count; without AGG every node that exposes the metric must satisfy the
// threshold on its own.
type Query struct {
	Agg      string
	Name     string
	Matchers []Matcher
	text     string
}

// Matcher is one label condition of a Query.
type Matcher struct {
	Label, Op, Value string
	re               *regexp.Regexp
}

func (m Matcher) match(v string) bool {
	switch m.Op {
	case "!=":
		return v != m.Value
	case "=~":
		return m.re.MatchString(v)
	}
	return v == m.Value
}

var (
	queryRE   = regexp.MustCompile(`^\s*(?:(sum|avg|min|max|count)\s*\(\s*(.*?)\s*\)|(.*?))\s*$`)
	selectRE  = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?$`)
	matcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
)

// ParseQuery parses the query syntax documented on Query.
func ParseQuery(s string) (Query, error) {
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

// Metric checks a threshold "Query Op Value".
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

// nodeValue sums the series of family name matching q on one node.
func (q Query) nodeValue(text, node, role string) (float64, bool, error) {
	for _, m := range q.Matchers {
		if m.Label == "node" && !m.match(node) || m.Label == "role" && !m.match(role) {
			return 0, false, nil
		}
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return 0, false, fmt.Errorf("parse /metrics: %w", err)
	}
	fam := fams[q.Name]
	if fam == nil {
		return 0, false, nil
	}
	sum, found := 0.0, false
	for _, s := range fam.GetMetric() {
		if !q.labelsMatch(s) {
			continue
		}
		found = true
		sum += sampleValue(s)
	}
	return sum, found, nil
}

func (q Query) labelsMatch(s *dto.Metric) bool {
	labels := map[string]string{}
	for _, lp := range s.GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	for _, m := range q.Matchers {
		if m.Label == "node" || m.Label == "role" {
			continue
		}
		if !m.match(labels[m.Label]) {
			return false
		}
	}
	return true
}

func sampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.GetCounter().GetValue()
	case s.Gauge != nil:
		return s.GetGauge().GetValue()
	case s.Untyped != nil:
		return s.GetUntyped().GetValue()
	case s.Histogram != nil:
		return float64(s.GetHistogram().GetSampleCount())
	case s.Summary != nil:
		return float64(s.GetSummary().GetSampleCount())
	}
	return math.NaN()
}

// Evaluate implements Expectation.
func (m *Metric) Evaluate(ctx context.Context, env *Env) error {
	values := map[string]float64{}
	var names, issues []string
	for _, n := range env.Nodes {
		text, err := retry(ctx, env, infoTries, func() (string, error) { return n.Client.Metrics(ctx) })
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		v, ok, err := m.Query.nodeValue(text, n.Name, string(n.Role))
		if err != nil {
			issues = append(issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		if ok {
			values[n.Name] = v
			names = append(names, n.Name)
		}
	}
	sort.Strings(names)
	if len(values) == 0 {
		msg := fmt.Sprintf("no node exposes a series matching %s", m.Query)
		if len(issues) > 0 {
			msg += " (" + strings.Join(issues, "; ") + ")"
		}
		return noSamples("%s", msg)
	}
	if m.Query.Agg != "" {
		v := aggregate(m.Query.Agg, names, values)
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

func aggregate(agg string, names []string, values map[string]float64) float64 {
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

package metrics

import (
	"context"
	"fmt"
	"math"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Values are the per-node results of a selector.
type Values struct {
	// ByNode holds the value of every node with at least one matching series.
	ByNode map[string]float64
	// Issues name the nodes that could not be asked, with the reason.
	Issues []string
}

// Querier evaluates a selector for each node of a run.
type Querier interface {
	// NodeValues returns each node's value of sel: the sum of its matching
	// series. A node without a matching series is left out.
	NodeValues(ctx context.Context, sel Selector, nodes []Target) (Values, error)
	// Source names where the values come from, for reports.
	Source() string
}

// Scrape is the default Querier: it reads every node's own /metrics page.
type Scrape struct{}

// Source implements Querier.
func (Scrape) Source() string { return "node /metrics" }

// NodeValues implements Querier.
func (Scrape) NodeValues(ctx context.Context, sel Selector, nodes []Target) (Values, error) {
	vals := Values{ByNode: map[string]float64{}}
	for _, n := range nodes {
		if !sel.SelectsNode(n.Name, n.Role) {
			continue
		}
		text, err := n.Scrape(ctx)
		if err != nil {
			vals.Issues = append(vals.Issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		v, ok, err := selectorValue(sel, text)
		if err != nil {
			vals.Issues = append(vals.Issues, fmt.Sprintf("%s: %v", n.Name, err))
			continue
		}
		if ok {
			vals.ByNode[n.Name] = v
		}
	}
	return vals, nil
}

// selectorValue sums the series of one /metrics page matching s.
func selectorValue(s Selector, text string) (float64, bool, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return 0, false, fmt.Errorf("parse /metrics: %w", err)
	}
	fam := fams[s.Name]
	if fam == nil {
		return 0, false, nil
	}
	sum, found := 0.0, false
	for _, m := range fam.GetMetric() {
		if !labelsMatch(s, m) {
			continue
		}
		found = true
		sum += sampleValue(m)
	}
	return sum, found, nil
}

func labelsMatch(s Selector, m *dto.Metric) bool {
	labels := map[string]string{}
	for _, lp := range m.GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	for _, mt := range s.Matchers {
		if !mt.NodeLabel() && !mt.Match(labels[mt.Label]) {
			return false
		}
	}
	return true
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.Summary != nil:
		return float64(m.GetSummary().GetSampleCount())
	}
	return math.NaN()
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/nomosrun/nomosrun/internal/env"
)

// Environment variables of the metrics backends (declared in internal/env).
var (
	// EnvQueryURL is the base URL of a Prometheus-compatible server that
	// scrapes the run's nodes; when set, expect_metric queries it.
	EnvQueryURL = env.MetricsQueryURL.Name
)

// FromEnv returns the Querier the environment asks for: a Prometheus client
// when NOMOS_METRICS_QUERY_URL is set, else Scrape.
func FromEnv(getenv func(string) string) (Querier, error) {
	if u := strings.TrimSpace(getenv(EnvQueryURL)); u != "" {
		return NewPrometheus(u)
	}
	return Scrape{}, nil
}

// Prometheus answers queries with PromQL instant queries to a
// Prometheus-compatible HTTP API. The server must scrape each node with the
// target labels node (the node's name) and role, as the run's
// prometheus-targets.json (file_sd format) sets them.
type Prometheus struct {
	url string
	api v1.API
	// Now is the evaluation time of instant queries (default time.Now).
	Now func() time.Time
}

// NewPrometheus returns a client of the server at url.
func NewPrometheus(url string) (*Prometheus, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("%s=%q: want an http:// or https:// base URL of a Prometheus-compatible server", EnvQueryURL, url)
	}
	c, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvQueryURL, url, err)
	}
	return &Prometheus{url: url, api: v1.NewAPI(c), Now: time.Now}, nil
}

// Source implements Querier.
func (p *Prometheus) Source() string { return "prometheus " + p.url }

// PromQL is the instant query for sel over the named nodes:
//
//	sum by (node) (NAME{MATCHERS..., node=~"n1|n2|..."})
//
// node and role matchers apply to the target labels of the same names.
func PromQL(sel Selector, nodes []string) string {
	ms := make([]string, 0, len(sel.Matchers)+1)
	for _, m := range sel.Matchers {
		ms = append(ms, m.Label+m.Op+strconv.Quote(m.Value))
	}
	quoted := make([]string, len(nodes))
	for i, n := range nodes {
		quoted[i] = regexp.QuoteMeta(n)
	}
	ms = append(ms, "node=~"+strconv.Quote(strings.Join(quoted, "|")))
	return fmt.Sprintf("sum by (node) (%s{%s})", sel.Name, strings.Join(ms, ", "))
}

// NodeValues implements Querier. A histogram or summary NAME has no series
// of that name in Prometheus: when NAME matches nothing, NAME_count is
// asked, which is the sample count the /metrics reading uses.
func (p *Prometheus) NodeValues(ctx context.Context, sel Selector, nodes []Target) (Values, error) {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	vals := Values{ByNode: map[string]float64{}}
	if len(nodes) == 0 {
		return vals, nil
	}
	q := PromQL(sel, names)
	vec, err := p.instant(ctx, q)
	if err == nil && len(vec) == 0 && !strings.HasSuffix(sel.Name, "_count") {
		count := sel
		count.Name += "_count"
		q = PromQL(count, names)
		vec, err = p.instant(ctx, q)
	}
	if err != nil {
		return vals, err
	}
	for _, s := range vec {
		node := string(s.Metric["node"])
		if node == "" {
			return vals, fmt.Errorf("prometheus %s: %s returned a series without a node label; scrape the nodes with the labels node and role", p.url, q)
		}
		vals.ByNode[node] = float64(s.Value)
	}
	if len(vec) == 0 {
		vals.Issues = append(vals.Issues, fmt.Sprintf("prometheus %s has no series for %s", p.url, q))
	}
	return vals, nil
}

func (p *Prometheus) instant(ctx context.Context, q string) (model.Vector, error) {
	v, _, _, err := p.api.Query(ctx, q, p.Now())
	if err != nil {
		var pe *v1.Error
		if errors.As(err, &pe) && pe.Type == v1.ErrBadData {
			return nil, fmt.Errorf("prometheus %s rejected %s: %v", p.url, q, err)
		}
		return nil, fmt.Errorf("prometheus %s: query %s: %w", p.url, q, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("prometheus %s: query %s returned a %s, want a vector", p.url, q, v.Type())
	}
	return vec, nil
}

// Range returns each node's values of sel from start to end, step apart: a
// PromQL range query of the same expression as NodeValues.
func (p *Prometheus) Range(ctx context.Context, sel Selector, nodes []string, start, end time.Time, step time.Duration) (map[string][]model.SamplePair, error) {
	q := PromQL(sel, nodes)
	v, _, _, err := p.api.QueryRange(ctx, q, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: range query %s: %w", p.url, q, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("prometheus %s: range query %s returned a %s, want a matrix", p.url, q, v.Type())
	}
	out := map[string][]model.SamplePair{}
	for _, s := range m {
		out[string(s.Metric["node"])] = s.Values
	}
	return out, nil
}

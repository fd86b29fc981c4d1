// Package grafana holds the Grafana dashboards of the reference node's
// metrics, for import into any Grafana reading a Prometheus that scrapes the
// nodes with the node and role labels (see docs/expectations.md).
package grafana

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// Dashboards holds the dashboard JSON files.
//
//go:embed *.json
var Dashboards embed.FS

type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// selectorRE finds the metric names of a PromQL expression; the dashboards
// write every selector as name{...}.
var selectorRE = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\{`)

// MetricNames returns the sorted metric names a dashboard's panels query.
// A panel without a query, or a query without a name{...} selector, is an
// error.
func MetricNames(data []byte) ([]string, error) {
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.Title == "" || len(d.Panels) == 0 {
		return nil, fmt.Errorf("dashboard has no title or no panels")
	}
	seen := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			return nil, fmt.Errorf("panel %q has no query", p.Title)
		}
		for _, t := range p.Targets {
			m := selectorRE.FindAllStringSubmatch(t.Expr, -1)
			if len(m) == 0 {
				return nil, fmt.Errorf("panel %q: query %q has no name{...} selector", p.Title, t.Expr)
			}
			for _, s := range m {
				seen[s[1]] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

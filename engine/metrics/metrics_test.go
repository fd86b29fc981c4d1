package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseQuery(t *testing.T) {
	q, err := ParseQuery(`max( cryptarchia_blocks_received_total{source="gossip", role=~"valid.*"} )`)
	if err != nil {
		t.Fatal(err)
	}
	if q.Agg != "max" || q.Name != "cryptarchia_blocks_received_total" || len(q.Matchers) != 2 ||
		q.Matchers[0] != (Matcher{Label: "source", Op: "=", Value: "gossip"}) || q.Matchers[1].Op != "=~" {
		t.Errorf("parsed %+v", q)
	}
	for _, bad := range []string{"", "9metric", `m{a=b}`, `top(m)`, `m{a=~"("}`} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("ParseQuery(%q) accepted", bad)
		}
	}
}

const page = `# TYPE cryptarchia_tip_height gauge
cryptarchia_tip_height 7
# TYPE cryptarchia_blocks_received_total counter
cryptarchia_blocks_received_total{source="gossip"} 5
cryptarchia_blocks_received_total{source="sync"} 2
# TYPE cryptarchia_block_propagation_seconds histogram
cryptarchia_block_propagation_seconds_bucket{le="0.1"} 3
cryptarchia_block_propagation_seconds_bucket{le="+Inf"} 4
cryptarchia_block_propagation_seconds_sum 0.3
cryptarchia_block_propagation_seconds_count 4
`

func TestScrape(t *testing.T) {
	ok := func(context.Context) (string, error) { return page, nil }
	nodes := []Target{
		{Name: "validator-0", Role: "validator", Scrape: ok},
		{Name: "executor-0", Role: "executor", Scrape: ok},
		{Name: "validator-1", Role: "validator", Scrape: func(context.Context) (string, error) { return "", errors.New("connection refused") }},
	}
	for query, want := range map[string]map[string]float64{
		`cryptarchia_blocks_received_total`:                                 {"validator-0": 7, "executor-0": 7},
		`cryptarchia_blocks_received_total{source="sync", role="executor"}`: {"executor-0": 2},
		`cryptarchia_block_propagation_seconds{node=~"validator-.*"}`:       {"validator-0": 4},
		`cryptarchia_tip_height{source!="x"}`:                               {"validator-0": 7, "executor-0": 7},
		`nomos_nope`:                                                        {},
	} {
		q, err := ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := Scrape{}.NodeValues(context.Background(), q.Selector, nodes)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, vals.ByNode); diff != "" {
			t.Errorf("%s (-want +got):\n%s", query, diff)
		}
		if q.Selector.SelectsNode("validator-1", "validator") &&
			(len(vals.Issues) != 1 || vals.Issues[0] != "validator-1: connection refused") {
			t.Errorf("%s: issues %v", query, vals.Issues)
		}
	}
}

func TestPromQL(t *testing.T) {
	q, err := ParseQuery(`max(cryptarchia_blocks_received_total{source="gos\"sip", role=~"valid.*"})`)
	if err != nil {
		t.Fatal(err)
	}
	got := PromQL(q.Selector, []string{"validator-0", "executor.1"})
	want := `sum by (node) (cryptarchia_blocks_received_total{source="gos\"sip", role=~"valid.*", node=~"validator-0|executor\\.1"})`
	if got != want {
		t.Errorf("PromQL =\n%s\nwant\n%s", got, want)
	}
}

func TestAggregate(t *testing.T) {
	names := []string{"a", "b", "c"}
	vals := map[string]float64{"a": 4, "b": 6, "c": 8}
	for agg, want := range map[string]float64{"sum": 18, "avg": 6, "min": 4, "max": 8, "count": 3} {
		if got := Aggregate(agg, names, vals); got != want {
			t.Errorf("%s = %g, want %g", agg, got, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	q, err := FromEnv(func(string) string { return "" })
	if err != nil || q.Source() != "node /metrics" {
		t.Errorf("unset: %v, %v", q, err)
	}
	q, err = FromEnv(func(string) string { return "http://127.0.0.1:9090" })
	if err != nil || q.Source() != "prometheus http://127.0.0.1:9090" {
		t.Errorf("set: %v, %v", q, err)
	}
	_, err = FromEnv(func(string) string { return "localhost:9090" })
	if err == nil || err.Error() != `NOMOS_METRICS_QUERY_URL="localhost:9090": want an http:// or https:// base URL of a Prometheus-compatible server` {
		t.Errorf("bad URL: %v", err)
	}
}

func TestWriteTargets(t *testing.T) {
	path := filepath.Join(t.TempDir(), TargetsFile)
	err := WriteTargets(path, []Target{{Name: "validator-0", Role: "validator", API: "http://127.0.0.1:4000"},
		{Name: "executor-0", Role: "executor", API: "http://10.1.2.3:80/api/"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var groups []targetGroup
	if err := json.Unmarshal(b, &groups); err != nil {
		t.Fatal(err)
	}
	want := []targetGroup{
		{Targets: []string{"127.0.0.1:4000"}, Labels: map[string]string{"node": "validator-0", "role": "validator", "__scheme__": "http", "__metrics_path__": "/metrics"}},
		{Targets: []string{"10.1.2.3:80"}, Labels: map[string]string{"node": "executor-0", "role": "executor", "__scheme__": "http", "__metrics_path__": "/api/metrics"}},
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if err := WriteTargets(path, []Target{{Name: "x", API: "not a url"}}); err == nil || !strings.Contains(err.Error(), `node x: API "not a url" is not a URL`) {
		t.Errorf("bad API: %v", err)
	}
}

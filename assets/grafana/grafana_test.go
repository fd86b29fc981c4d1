package grafana

import (
	"io/fs"
	"strings"
	"testing"
)

// TestDashboardsParse checks that every dashboard is JSON with panels and
// queries, and that it queries only the reference node's metrics. The
// end-to-end test in cmd/nomosrun checks the names against a Prometheus
// that scraped live nodes.
func TestDashboardsParse(t *testing.T) {
	files, err := fs.Glob(Dashboards, "*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	for _, f := range files {
		data, _ := fs.ReadFile(Dashboards, f)
		names, err := MetricNames(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, n := range names {
			if !strings.HasPrefix(n, "cryptarchia_") && !strings.HasPrefix(n, "mempool_") &&
				!strings.HasPrefix(n, "mantle_") && !strings.HasPrefix(n, "network_") {
				t.Errorf("%s queries %s, not a reference node metric", f, n)
			}
		}
		if len(names) < 10 {
			t.Errorf("%s queries only %d metrics: %v", f, len(names), names)
		}
	}
	if _, err := MetricNames([]byte(`{"title":"x","panels":[{"title":"p","targets":[{"expr":"up"}]}]}`)); err == nil {
		t.Error("a query without a selector was accepted")
	}
	if _, err := MetricNames([]byte(`{"title":`)); err == nil {
		t.Error("broken JSON was accepted")
	}
}

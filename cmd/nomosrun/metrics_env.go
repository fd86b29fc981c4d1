package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/metrics"
	"github.com/nomosrun/nomosrun/internal/env"
)

// printObservability prints where metrics can be looked at: the metrics
// query server and the Grafana the environment names
// (NOMOS_METRICS_QUERY_URL, NOMOS_GRAFANA_URL) and, for a cluster kept up,
// its Prometheus scrape targets.
func printObservability(w io.Writer, runDir string, targets bool) {
	if targets {
		fmt.Fprintf(w, "nomosrun: prometheus scrape targets (file_sd) in %s\n", filepath.Join(runDir, metrics.TargetsFile))
	}
	if u := env.MetricsQueryURL.Get(); u != "" {
		fmt.Fprintf(w, "nomosrun: metrics queries go to %s\n", u)
	}
	if u := env.GrafanaURL.Get(); u != "" {
		fmt.Fprintf(w, "nomosrun: grafana %s\n", u)
	}
}

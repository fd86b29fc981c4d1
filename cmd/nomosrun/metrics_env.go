package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/metrics"
)

// printObservability prints where metrics can be looked at: the metrics
// query server and the Grafana the environment names
// (NOMOS_METRICS_QUERY_URL, NOMOS_GRAFANA_URL) and, for a cluster kept up,
// its Prometheus scrape targets.
func printObservability(w io.Writer, runDir string, targets bool) {
	if targets {
		fmt.Fprintf(w, "nomosrun: prometheus scrape targets (file_sd) in %s\n", filepath.Join(runDir, metrics.TargetsFile))
	}
	if u := os.Getenv(metrics.EnvQueryURL); u != "" {
		fmt.Fprintf(w, "nomosrun: metrics queries go to %s\n", u)
	}
	if u := os.Getenv(metrics.EnvGrafanaURL); u != "" {
		fmt.Fprintf(w, "nomosrun: grafana %s\n", u)
	}
}

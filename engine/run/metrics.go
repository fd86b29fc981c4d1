package run

import (
	"path/filepath"

	"github.com/nomosrun/nomosrun/engine/metrics"
)

// metricsQuerier returns Options.Metrics, else the querier the environment
// asks for (NOMOS_METRICS_QUERY_URL), else the nodes' own /metrics.
func (x *execution) metricsQuerier() (metrics.Querier, error) {
	if x.opts.Metrics != nil {
		return x.opts.Metrics, nil
	}
	return metrics.FromEnv(x.getenv)
}

// writeTargets writes runDir/prometheus-targets.json, so a Prometheus
// watching it (file_sd) scrapes the nodes with their node and role labels.
// A failure only costs that, so it is logged, not fatal.
func (x *execution) writeTargets(runDir string) {
	targets := make([]metrics.Target, 0, len(x.nodes))
	for _, n := range x.cluster.Nodes() {
		targets = append(targets, metrics.Target{Name: n.Name(), Role: string(n.Role()), API: n.API()})
	}
	if err := metrics.WriteTargets(filepath.Join(runDir, metrics.TargetsFile), targets); err != nil {
		x.log.Warn("write the Prometheus targets", "err", err)
	}
}

package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metrics are the node's Prometheus series, on a registry of its own.
type metrics struct {
	reg                                              *prometheus.Registry
	tip, lib, slot, mempool, peers                   prometheus.Gauge
	produced, received, reorgs, forks, included, txs prometheus.Counter
	propagation                                      prometheus.Histogram
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	g := func(name, help string) prometheus.Gauge {
		m := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		reg.MustRegister(m)
		return m
	}
	c := func(name, help string) prometheus.Counter {
		m := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		reg.MustRegister(m)
		return m
	}
	m := &metrics{
		reg:      reg,
		tip:      g("cryptarchia_tip_height", "Height of the selected tip (genesis = 0)."),
		lib:      g("cryptarchia_lib_height", "Height of the last immutable block."),
		slot:     g("cryptarchia_tip_slot", "Slot of the selected tip."),
		mempool:  g("mempool_pending_items", "Transactions waiting in the mempool."),
		peers:    g("network_peers", "Connected peers."),
		produced: c("cryptarchia_blocks_produced_total", "Blocks this node produced."),
		received: c("cryptarchia_blocks_received_total", "Blocks received by gossip."),
		reorgs:   c("cryptarchia_reorgs_total", "Switches of the selected chain to another branch."),
		forks:    c("cryptarchia_forks_total", "Valid blocks that landed off the selected chain."),
		included: c("mantle_txs_included_total", "Transactions included in blocks this node produced."),
		txs:      c("mempool_txs_received_total", "Transactions accepted into the mempool."),
	}
	m.propagation = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cryptarchia_block_propagation_seconds",
		Help:    "Time from a gossiped block's slot start to its arrival here.",
		Buckets: []float64{.002, .005, .01, .015, .02, .03, .05, .075, .1, .15, .2, .3, .5, .75, 1, 2, 5},
	})
	reg.MustRegister(m.propagation)
	return m
}

// MetricsHandler serves /metrics.
func (n *Node) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(n.Gatherer(), promhttp.HandlerOpts{})
}

// Gatherer reads the node's series, the gauges sampled at each read, for
// /metrics and for the OTLP metrics export.
func (n *Node) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		if n.net != nil {
			n.metrics.peers.Set(float64(len(n.net.Peers())))
		}
		n.metrics.mempool.Set(float64(n.pool.Len()))
		return n.metrics.reg.Gather()
	})
}

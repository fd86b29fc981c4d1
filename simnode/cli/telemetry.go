package cli

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/otlp"
	"github.com/nomosrun/nomosrun/simnode/node"
)

// telemetryShutdownTimeout bounds the last export when the node stops.
const telemetryShutdownTimeout = 5 * time.Second

// startTelemetry exports the node's traces to NOMOS_OTLP_ENDPOINT and its
// metrics to NOMOS_OTLP_METRICS_ENDPOINT (or NOMOS_METRICS_OTLP_INGEST_URL),
// as the service named after the node. With neither set it does nothing.
// The returned function flushes and stops the exporters; a bad endpoint
// is logged and leaves that signal off, since telemetry never stops a node.
func startTelemetry(ctx context.Context, n *node.Node, log *slog.Logger) (stop func()) {
	traces := env.OTLPEndpoint.Get()
	metrics := env.OTLPMetricsEndpoint.Get()
	if metrics == "" {
		metrics = env.MetricsOTLPIngestURL.Get()
	}
	if traces == "" && metrics == "" {
		return func() {}
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("OpenTelemetry export", "err", err) }))
	res := otlp.Resource(n.Name(), n.Name())
	var stops []func(context.Context) error
	if traces != "" {
		if hint := otlp.GRPCPortHint(traces); hint != "" {
			log.Warn("OTLP endpoint", "var", env.OTLPEndpoint.Name, "hint", hint)
		}
		tp, err := otlp.NewTracerProvider(ctx, traces, res)
		if err != nil {
			log.Error("traces are not exported", "var", env.OTLPEndpoint.Name, "err", err)
		} else {
			n.SetTracerProvider(tp)
			stops = append(stops, tp.Shutdown)
			log.Info("exporting traces over OTLP", "endpoint", traces)
		}
	}
	if metrics != "" {
		mp, err := otlp.NewMeterProvider(ctx, metrics, res, n.Gatherer(), 0)
		if err != nil {
			log.Error("metrics are not exported", "var", env.OTLPMetricsEndpoint.Name, "err", err)
		} else {
			stops = append(stops, mp.Shutdown)
			log.Info("exporting metrics over OTLP", "endpoint", metrics)
		}
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), telemetryShutdownTimeout)
		defer cancel()
		for _, s := range stops {
			if err := s(sctx); err != nil {
				log.Warn("OpenTelemetry shutdown", "err", err)
			}
		}
	}
}

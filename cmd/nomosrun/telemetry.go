package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/engine/runtrace"
	"github.com/nomosrun/nomosrun/internal/env"
	"github.com/nomosrun/nomosrun/internal/otlp"
)

// flushTimeout bounds the export of a run's trace after the run.
const flushTimeout = 15 * time.Second

// telemetry exports runs as traces to NOMOS_OTLP_ENDPOINT.
type telemetry struct {
	endpoint string // the full traces URL
	tp       *sdktrace.TracerProvider
}

// newTelemetry sets up the trace exporter when NOMOS_OTLP_ENDPOINT is set.
// Unset, it returns nil and builds nothing: no exporter, no goroutine, no
// connection, no output. Every method works on the nil telemetry.
func newTelemetry(ctx context.Context, log *slog.Logger, stderr io.Writer) (*telemetry, error) {
	endpoint := env.OTLPEndpoint.Get()
	if endpoint == "" {
		return nil, nil
	}
	u, err := otlp.URL(endpoint, otlp.TracesPath)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", env.OTLPEndpoint.Name, err))
	}
	tp, err := otlp.NewTracerProvider(ctx, endpoint, otlp.Resource("nomosrun", ""))
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", env.OTLPEndpoint.Name, err))
	}
	if hint := otlp.GRPCPortHint(endpoint); hint != "" {
		fmt.Fprintf(stderr, "nomosrun: warning: %s=%s: %s\n", env.OTLPEndpoint.Name, endpoint, hint)
	}
	// Errors of the SDK's background exports go to our log, not to the
	// standard logger.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("OpenTelemetry", "err", err) }))
	return &telemetry{endpoint: u, tp: tp}, nil
}

// close flushes what is left and stops the exporter.
func (t *telemetry) close() {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	_ = t.tp.Shutdown(ctx)
}

// runRecord is the telemetry of one run.
type runRecord struct {
	t   *telemetry
	rec runtrace.Recorder
}

// run starts recording one run; nil without telemetry.
func (t *telemetry) run() *runRecord {
	if t == nil {
		return nil
	}
	return &runRecord{t: t}
}

// observe returns an observer that records the run's events for the trace
// and passes them on to next.
func (r *runRecord) observe(next func(run.Event)) func(run.Event) {
	if r == nil {
		return next
	}
	return func(ev run.Event) {
		r.rec.Observe(ev)
		next(ev)
	}
}

// export sends the run's trace and waits for the collector to take it. It
// returns the line to show: where the trace went, or a warning (a failed
// export never changes the run's verdict). No run, no line.
func (r *runRecord) export(p *plan.Plan, res *report.Result, attrs ...attribute.KeyValue) string {
	if r == nil || res == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	id := r.rec.Export(ctx, r.t.tp.Tracer("github.com/nomosrun/nomosrun"), p, res, attrs...)
	if err := r.t.tp.ForceFlush(ctx); err != nil {
		return fmt.Sprintf("warning: the run's trace could not be sent to %s: %v", r.t.endpoint, err)
	}
	return fmt.Sprintf("trace %s sent to %s", id, r.t.endpoint)
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
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

// runTelemetry exports a run as a trace to NOMOS_OTLP_ENDPOINT.
type runTelemetry struct {
	endpoint string
	tp       *sdktrace.TracerProvider
	rec      runtrace.Recorder
}

// newRunTelemetry sets up the trace exporter when NOMOS_OTLP_ENDPOINT is
// set. Unset, it returns nil and builds nothing: no exporter, no goroutine,
// no connection, no output.
func newRunTelemetry(ctx context.Context, log *slog.Logger) (*runTelemetry, error) {
	endpoint := env.OTLPEndpoint.Get()
	if endpoint == "" {
		return nil, nil
	}
	tp, err := otlp.NewTracerProvider(ctx, endpoint, otlp.Resource("nomosrun", ""))
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", env.OTLPEndpoint.Name, err))
	}
	// Export errors of the SDK's background work go to our log, not to
	// the standard logger.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("OpenTelemetry", "err", err) }))
	u, _ := otlp.URL(endpoint, otlp.TracesPath)
	return &runTelemetry{endpoint: u, tp: tp}, nil
}

// observe returns an observer that records the run's events for the trace
// and passes them on to next. On a nil runTelemetry it returns next.
func (t *runTelemetry) observe(next func(run.Event)) func(run.Event) {
	if t == nil {
		return next
	}
	return func(ev run.Event) {
		t.rec.Observe(ev)
		next(ev)
	}
}

// finish exports the run's trace, waits for the collector to take it and
// says where it went; a failed export is a warning, never the run's error.
func (t *runTelemetry) finish(p *plan.Plan, res *report.Result, w io.Writer) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if res != nil {
		id := t.rec.Export(ctx, t.tp.Tracer("github.com/nomosrun/nomosrun"), p, res)
		if err := t.tp.ForceFlush(ctx); err != nil {
			fmt.Fprintf(w, "nomosrun: warning: the run's trace could not be sent to %s: %v\n", t.endpoint, err)
		} else {
			fmt.Fprintf(w, "nomosrun: trace %s sent to %s\n", id, t.endpoint)
		}
	}
	_ = t.tp.Shutdown(ctx)
}

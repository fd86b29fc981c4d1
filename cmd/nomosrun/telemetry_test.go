package main

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/nomosrun/nomosrun/engine/run"
)

// TestOTLPTelemetryUnset: without NOMOS_OTLP_ENDPOINT nothing is built, no
// goroutine starts, and the observer is the one given.
func TestOTLPTelemetryUnset(t *testing.T) {
	t.Setenv("NOMOS_OTLP_ENDPOINT", " ")
	before := runtime.NumGoroutine()
	var out strings.Builder
	tel, err := newTelemetry(context.Background(), slog.New(slog.DiscardHandler), &out)
	if tel != nil || err != nil {
		t.Fatalf("newTelemetry = %v, %v; want nothing", tel, err)
	}
	rec := tel.run()
	calls := 0
	rec.observe(func(run.Event) { calls++ })(run.Event{})
	if rec != nil || calls != 1 || rec.export(nil, nil) != "" {
		t.Errorf("run record %v, observer calls %d", rec, calls)
	}
	tel.close()
	if after := runtime.NumGoroutine(); after > before || out.Len() > 0 {
		t.Errorf("goroutines %d -> %d, output %q", before, after, out.String())
	}
}

// TestOTLPTelemetryBadEndpoint: a malformed endpoint is a usage error
// naming the variable, before anything runs.
func TestOTLPTelemetryBadEndpoint(t *testing.T) {
	t.Setenv("NOMOS_OTLP_ENDPOINT", "grpc://localhost:4317")
	_, err := newTelemetry(context.Background(), slog.New(slog.DiscardHandler), io.Discard)
	if err == nil || codeOf(err) != ExitUsage || !strings.Contains(err.Error(), "NOMOS_OTLP_ENDPOINT") {
		t.Errorf("err %v (code %d), want a usage error naming NOMOS_OTLP_ENDPOINT", err, codeOf(err))
	}
}

package otlp_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nomosrun/nomosrun/internal/otlp"
	"github.com/nomosrun/nomosrun/internal/otlp/otlptest"
)

func TestOTLPURL(t *testing.T) {
	for _, c := range []struct{ in, path, want string }{
		{"http://localhost:4318", otlp.TracesPath, "http://localhost:4318/v1/traces"},
		{"http://localhost:4318/", otlp.MetricsPath, "http://localhost:4318/v1/metrics"},
		{" localhost:4318 ", otlp.TracesPath, "http://localhost:4318/v1/traces"},
		{"https://collector.example:443/otlp/v1/traces", otlp.TracesPath, "https://collector.example:443/otlp/v1/traces"},
		{"http://prometheus:9090/api/v1/otlp/v1/metrics", otlp.MetricsPath, "http://prometheus:9090/api/v1/otlp/v1/metrics"},
	} {
		got, err := otlp.URL(c.in, c.path)
		if err != nil || got != c.want {
			t.Errorf("URL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "grpc://localhost:4317", "http://", "http://[::1"} {
		if got, err := otlp.URL(bad, otlp.TracesPath); err == nil {
			t.Errorf("URL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestOTLPGRPCPortHint(t *testing.T) {
	if otlp.GRPCPortHint("http://localhost:4317") == "" || otlp.GRPCPortHint("localhost:4317") == "" {
		t.Error("no hint for port 4317")
	}
	if h := otlp.GRPCPortHint("http://localhost:4318"); h != "" {
		t.Errorf("hint for port 4318: %s", h)
	}
}

// TestOTLPExport sends a span and a Prometheus registry's series to a
// receiver and finds them there.
func TestOTLPExport(t *testing.T) {
	rcv := otlptest.Start(t)
	ctx := context.Background()
	res := otlp.Resource("unit", "unit-1")

	tp, err := otlp.NewTracerProvider(ctx, rcv.URL, res)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(ctx, "hello")
	span.End()
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	tp.Shutdown(ctx)

	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "answer", Help: "The answer."})
	reg.MustRegister(g)
	g.Set(42)
	mp, err := otlp.NewMeterProvider(ctx, rcv.URL, res, reg, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.Shutdown(ctx); err != nil { // a last export on the way down
		t.Fatalf("shutdown: %v", err)
	}

	if errs := rcv.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	spans := rcv.Spans()
	if len(spans) != 1 || spans[0].Name != "hello" || spans[0].Service != "unit" {
		t.Errorf("spans %v, want one span hello from service unit", spans)
	}
	var value float64
	for _, m := range rcv.Metrics() {
		if m.Name == "answer" && m.Service == "unit" {
			value = m.GetGauge().GetDataPoints()[0].GetAsDouble()
		}
	}
	if value != 42 {
		t.Errorf("gauge answer = %v, want 42 (metrics %v)", value, rcv.Metrics())
	}
}

// TestOTLPUnreachable checks that a collector that is not there makes a
// flush fail within the export timeout instead of hanging.
func TestOTLPUnreachable(t *testing.T) {
	rcv := otlptest.Start(t)
	url := rcv.URL
	rcv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := otlp.NewTracerProvider(ctx, url, otlp.Resource("unit", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Shutdown(ctx)
	_, span := tp.Tracer("test").Start(ctx, "lost")
	span.End()
	if err := tp.ForceFlush(ctx); err == nil {
		t.Error("flush to a closed port succeeded")
	}
}

// Package otlp sets up OpenTelemetry exporters over OTLP/HTTP for nomosrun
// and the reference node, from the endpoints of NOMOS_OTLP_ENDPOINT and
// NOMOS_OTLP_METRICS_ENDPOINT. Nothing here runs unless a caller passes an
// endpoint: with the variables unset no provider, goroutine or connection
// exists.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/bridges/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// The OTLP/HTTP paths appended to an endpoint given without a path.
const (
	TracesPath  = "/v1/traces"
	MetricsPath = "/v1/metrics"
)

// exportTimeout bounds one export request, so an unreachable collector
// delays the end of a run or a node's shutdown by seconds, not minutes.
const exportTimeout = 10 * time.Second

// URL returns the full OTLP/HTTP URL of endpoint for one signal: an
// endpoint with a path (a Prometheus OTLP receiver's
// /api/v1/otlp/v1/metrics) is used as it is, one without (the Rust framework'
// http://localhost:4318) gets the signal's standard path. A bare host:port
// means plain HTTP.
func URL(endpoint, signalPath string) (string, error) {
	s := strings.TrimSpace(endpoint)
	if s == "" {
		return "", errors.New("empty OTLP endpoint")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("OTLP endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("OTLP endpoint %q: want an http or https URL (OTLP/HTTP)", endpoint)
	}
	if u.Host == "" {
		return "", fmt.Errorf("OTLP endpoint %q: no host", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = signalPath
	}
	return u.String(), nil
}

// GRPCPortHint warns about an endpoint on port 4317, the collectors' usual
// OTLP/gRPC port (the Rust framework's examples give it for traces): OTLP/HTTP
// requests there fail. Empty for any other endpoint.
func GRPCPortHint(endpoint string) string {
	u, err := URL(endpoint, TracesPath)
	if err != nil {
		return ""
	}
	if p, _ := url.Parse(u); p != nil && p.Port() == "4317" {
		return "port 4317 is usually a collector's OTLP/gRPC port; nomosrun speaks OTLP/HTTP, usually on port 4318"
	}
	return ""
}

// Resource describes the process that exports: its service name and, when
// not empty, its instance.
func Resource(service, instance string) *resource.Resource {
	attrs := []attribute.KeyValue{semconv.ServiceName(service)}
	if instance != "" {
		attrs = append(attrs, semconv.ServiceInstanceID(instance))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}

// NewTracerProvider returns a tracer provider that batches spans to the
// OTLP/HTTP endpoint. Shutdown flushes what is left; ForceFlush returns the
// export's error.
func NewTracerProvider(ctx context.Context, endpoint string, res *resource.Resource) (*sdktrace.TracerProvider, error) {
	u, err := URL(endpoint, TracesPath)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u), otlptracehttp.WithTimeout(exportTimeout))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter for %s: %w", u, err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// NewMeterProvider returns a meter provider that exports the series of
// gatherer (a Prometheus registry, through the OpenTelemetry bridge) to the
// OTLP/HTTP endpoint every interval (OTEL_METRIC_EXPORT_INTERVAL when
// interval is 0, else 60 s), and once more on Shutdown.
func NewMeterProvider(ctx context.Context, endpoint string, res *resource.Resource, gatherer promclient.Gatherer, interval time.Duration) (*sdkmetric.MeterProvider, error) {
	u, err := URL(endpoint, MetricsPath)
	if err != nil {
		return nil, err
	}
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(u), otlpmetrichttp.WithTimeout(exportTimeout))
	if err != nil {
		return nil, fmt.Errorf("OTLP metric exporter for %s: %w", u, err)
	}
	opts := []sdkmetric.PeriodicReaderOption{sdkmetric.WithProducer(prometheus.NewMetricProducer(prometheus.WithGatherer(gatherer)))}
	if interval > 0 {
		opts = append(opts, sdkmetric.WithInterval(interval))
	}
	reader := sdkmetric.NewPeriodicReader(exp, opts...)
	return sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res)), nil
}

// Package otlptest is an OTLP/HTTP receiver for tests: it accepts the
// protobuf payloads of /v1/traces and /v1/metrics on a loopback port,
// decodes them with the official OTLP proto package and keeps what arrives.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span with the service that sent it.
type Span struct {
	Service string
	*tracepb.Span
}

// Attr returns the span's attribute key as a string ("" when absent).
func (s Span) Attr(key string) string { return attrString(s.Attributes, key) }

// Metric is one received metric with the service that sent it.
type Metric struct {
	Service string
	*metricspb.Metric
}

// Receiver is a running OTLP/HTTP receiver.
type Receiver struct {
	// URL is the endpoint to give an exporter (http://127.0.0.1:PORT).
	URL string

	srv     *http.Server
	conns   atomic.Int64
	mu      sync.Mutex
	spans   []Span
	metrics []Metric
	errs    []error
}

// Start starts a receiver on a free loopback port; it stops when the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlp receiver: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Listen starts a receiver on addr (host:port); Close stops it.
func Listen(addr string) (*Receiver, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.handle(r.addTraces))
	mux.HandleFunc("POST /v1/metrics", r.handle(r.addMetrics))
	r.srv = &http.Server{Handler: mux, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}}
	go r.srv.Serve(l)
	return r, nil
}

// Close stops the receiver.
func (r *Receiver) Close() error { return r.srv.Close() }

// handle decodes one protobuf request body with add.
func (r *Receiver) handle(add func([]byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				r.fail(w, err)
				return
			}
			body = zr
		}
		data, err := io.ReadAll(body)
		if err == nil && req.Header.Get("Content-Type") != "application/x-protobuf" {
			err = fmt.Errorf("content type %q, want application/x-protobuf", req.Header.Get("Content-Type"))
		}
		if err == nil {
			err = add(data)
		}
		if err != nil {
			r.fail(w, err)
			return
		}
		// An empty Export*ServiceResponse: full success.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}
}

func (r *Receiver) fail(w http.ResponseWriter, err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

// addTraces decodes an ExportTraceServiceRequest, whose wire format is
// TracesData's.
func (r *Receiver) addTraces(data []byte) error {
	var td tracepb.TracesData
	if err := proto.Unmarshal(data, &td); err != nil {
		return fmt.Errorf("decode traces: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range td.ResourceSpans {
		svc := attrString(rs.GetResource().GetAttributes(), "service.name")
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				r.spans = append(r.spans, Span{Service: svc, Span: s})
			}
		}
	}
	return nil
}

// addMetrics decodes an ExportMetricsServiceRequest, whose wire format is
// MetricsData's.
func (r *Receiver) addMetrics(data []byte) error {
	var md metricspb.MetricsData
	if err := proto.Unmarshal(data, &md); err != nil {
		return fmt.Errorf("decode metrics: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rm := range md.ResourceMetrics {
		svc := attrString(rm.GetResource().GetAttributes(), "service.name")
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				r.metrics = append(r.metrics, Metric{Service: svc, Metric: m})
			}
		}
	}
	return nil
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Metrics returns the metrics received so far.
func (r *Receiver) Metrics() []Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Metric(nil), r.metrics...)
}

// Errors returns the requests the receiver could not decode.
func (r *Receiver) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// Connections counts the TCP connections accepted so far.
func (r *Receiver) Connections() int64 { return r.conns.Load() }

// attrString returns the attribute key of attrs as a string: a string
// value as it is, any other value in its text form.
func attrString(attrs []*commonpb.KeyValue, key string) string {
	for _, kv := range attrs {
		if kv.Key != key {
			continue
		}
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return fmt.Sprint(v.IntValue)
		case *commonpb.AnyValue_BoolValue:
			return fmt.Sprint(v.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			return fmt.Sprint(v.DoubleValue)
		default:
			return kv.GetValue().String()
		}
	}
	return ""
}

package cli

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/otlp/otlptest"
)

// TestOTLPNode runs a one-validator node for a moment with both OTLP
// variables set: its block spans and its Prometheus series arrive at the
// receiver, as the service named after the node, by the time it stops.
func TestOTLPNode(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv("NOMOS_OTLP_ENDPOINT", rcv.URL)
	t.Setenv("NOMOS_OTLP_METRICS_ENDPOINT", rcv.URL)
	p := oneNodeConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	if code := Main(ctx, []string{"--config", p}, &out, &errb); code != 0 {
		t.Fatalf("run: %d %q", code, errb.String())
	}
	if errs := rcv.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var produced int
	for _, s := range rcv.Spans() {
		if s.Name == "block produce" && s.Service == "validator-0" && s.Attr("result") == "applied" && s.Attr("block.id") != "" {
			produced++
		}
	}
	if produced == 0 {
		t.Errorf("no applied block produce span from validator-0 among %d spans", len(rcv.Spans()))
	}
	var height float64
	for _, m := range rcv.Metrics() {
		if m.Name == "cryptarchia_tip_height" && m.Service == "validator-0" {
			height = m.GetGauge().GetDataPoints()[0].GetAsDouble()
		}
	}
	if height < 1 {
		t.Errorf("cryptarchia_tip_height %v from validator-0, want at least 1 (%d metrics)", height, len(rcv.Metrics()))
	}
}

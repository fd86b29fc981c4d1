package kernelnet

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPartition10 applies and verifies a 5+5 partition of 10 nodes
// (50 directed links), then heals and verifies it. Proving a drop waits
// out the probe timeout (CutTimeout, 300 ms), which dominates
// cut+verify-ms; apply-ms is the nftables part alone.
func BenchmarkPartition10(b *testing.B) {
	var nodes []string
	for i := range 10 {
		nodes = append(nodes, fmt.Sprintf("v%d", i))
	}
	n := newNet(b, nodes...)
	ctx := context.Background()
	var apply, cut, heal time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("p%d", i)
		r, err := n.Cut(ctx, id, nodes[:5], nodes[5:])
		if err != nil {
			b.Fatal(err)
		}
		h, err := n.Heal(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		apply += r.Applied
		cut += r.Elapsed
		heal += h.Elapsed
		if i == 0 {
			b.Log(r, " / ", h)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(apply), "apply-ms/op")
	b.ReportMetric(ms(cut), "cut+verify-ms/op")
	b.ReportMetric(ms(heal), "heal+verify-ms/op")
}

// BenchmarkCreate10 builds and removes a 10-node network.
func BenchmarkCreate10(b *testing.B) {
	need(b)
	var nodes []string
	for i := range 10 {
		nodes = append(nodes, fmt.Sprintf("v%d", i))
	}
	for b.Loop() {
		n, err := Create(context.Background(), Options{Prefix: testPrefix, Nodes: nodes})
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

package agent

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkPartition10ThroughAgents is kernelnet's BenchmarkPartition10 as
// the Kubernetes runner does it: every rule and probe goes through an agent
// over HTTP (here on loopback, without the port-forward's hop).
func BenchmarkPartition10ThroughAgents(b *testing.B) {
	var nodes []string
	for i := range 10 {
		nodes = append(nodes, fmt.Sprintf("v%d", i))
	}
	n := attached(b, nodes...)
	ctx := context.Background()
	var cut, heal time.Duration
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
		cut, heal = cut+r.Elapsed, heal+h.Elapsed
	}
	b.ReportMetric(float64(cut.Microseconds())/1000/float64(b.N), "cut+verify-ms/op")
	b.ReportMetric(float64(heal.Microseconds())/1000/float64(b.N), "heal+verify-ms/op")
}

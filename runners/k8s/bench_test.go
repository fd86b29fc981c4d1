package k8s

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/runners"
)

// benchDeploy measures the time from Deploy to every one of n nodes
// answering its API from here (pods ready, NodePorts reached).
func benchDeploy(b *testing.B, n int) {
	r := realRunner(b, nil)
	ctx := context.Background()
	for b.Loop() {
		c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(n), RunDir: b.TempDir(), ChainStart: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		for _, nd := range c.Nodes() {
			for height(nd) == 0 && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
		}
		b.StopTimer()
		if err := c.Teardown(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkDeploy4(b *testing.B)  { benchDeploy(b, 4) }
func BenchmarkDeploy20(b *testing.B) { benchDeploy(b, 20) }

// BenchmarkRestart measures Restart of one node of two: pod deleted, its
// replacement ready and reached.
func BenchmarkRestart(b *testing.B) {
	r := realRunner(b, nil)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2), RunDir: b.TempDir(), ChainStart: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Teardown(ctx)
	n := c.Nodes()[1]
	for b.Loop() {
		if err := c.(*Cluster).Restart(ctx, n.Name()); err != nil {
			b.Fatal(err)
		}
		if height(n) == 0 {
			b.Fatal(fmt.Errorf("%s does not answer after the restart", n.Name()))
		}
	}
}

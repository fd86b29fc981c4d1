package compose

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners"
)

// BenchmarkImageBuild measures building the node image and loading it into
// the engine (nomosrun image build) with the node binary already cached.
func BenchmarkImageBuild(b *testing.B) {
	realRunner(b)
	cli, err := Docker(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	for b.Loop() {
		if err := LoadImage(context.Background(), cli, nodeimage.DefaultTag(), referenceKind); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageWrite measures writing the image archive alone (what
// nomosrun image save and the Kubernetes runner do).
func BenchmarkImageWrite(b *testing.B) {
	realRunner(b)
	for b.Loop() {
		if err := nodeimage.Write(context.Background(), io.Discard, "nomosrun/bench:0", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDeploy measures the time from Deploy to every node answering GET
// /cryptarchia/info, with the image cached.
func benchDeploy(b *testing.B, validators int) {
	r := realRunner(b)
	ctx := context.Background()
	p := testPlan(validators, 0, plan.NetworkStar)
	p.Topology.Slot = plan.Duration(time.Second)
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		c, err := r.Deploy(ctx, runners.DeploySpec{Plan: p, RunDir: b.TempDir(), ChainStart: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if err := allAnswer(ctx, c.Nodes(), time.Minute); err != nil {
			c.Teardown(ctx)
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		if err := c.Teardown(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ready")
}

func BenchmarkDeploy4(b *testing.B)  { benchDeploy(b, 4) }
func BenchmarkDeploy20(b *testing.B) { benchDeploy(b, 20) }

// BenchmarkRestartNode measures one node's restart: graceful stop to
// answering on its API again.
func BenchmarkRestartNode(b *testing.B) {
	r := realRunner(b)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2, 0, plan.NetworkStar), RunDir: b.TempDir(), ChainStart: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Teardown(ctx)
	if err := allAnswer(ctx, c.Nodes(), time.Minute); err != nil {
		b.Fatal(err)
	}
	rs := c.(runners.Restarter)
	for b.Loop() {
		if err := rs.Restart(ctx, "validator-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// allAnswer polls every node's /cryptarchia/info until each has answered.
func allAnswer(ctx context.Context, nodes []runners.Node, within time.Duration) error {
	deadline := time.Now().Add(within)
	hc := http.Client{Timeout: time.Second}
	for _, n := range nodes {
		for {
			resp, err := hc.Get(n.API() + "/cryptarchia/info")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not answer within %s", n.Name(), within)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

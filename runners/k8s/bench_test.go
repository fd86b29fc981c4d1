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

// BenchmarkPauseResume measures Pause (SIGSTOP exec'd in the pod) and
// Resume (SIGCONT, pod ready, API answering) of one node of two, reported
// as pause-ms and resume-ms per iteration.
func BenchmarkPauseResume(b *testing.B) {
	r := realRunner(b, nil)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2), RunDir: b.TempDir(), ChainStart: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Teardown(ctx)
	kc, n := c.(*Cluster), c.Nodes()[1]
	var paused, resumed time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := kc.Pause(ctx, n.Name()); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := kc.Resume(ctx, n.Name()); err != nil {
			b.Fatal(err)
		}
		paused, resumed = paused+t1.Sub(t0), resumed+time.Since(t1)
		if height(n) == 0 {
			b.Fatal(fmt.Errorf("%s does not answer after the resume", n.Name()))
		}
	}
	b.ReportMetric(float64(paused.Milliseconds())/float64(b.N), "pause-ms")
	b.ReportMetric(float64(resumed.Milliseconds())/float64(b.N), "resume-ms")
}

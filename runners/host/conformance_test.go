package host

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodekind/cometbft"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

// realRunner is a host runner of reference nodes built in TestMain.
func realRunner(tb testing.TB) *Runner {
	tb.Helper()
	if simnodeBin == "" {
		tb.Skip("the reference node runs only without -short")
	}
	r, err := New(Options{NodeCommand: []string{simnodeBin}, TeardownGrace: 2 * time.Second, StopTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestConformance(t *testing.T) {
	runnertest.Conformance(t, "", func(t *testing.T) runners.Runner { return realRunner(t) })
}

// TestConformanceCometBFT runs the suite on CometBFT nodes, a node nomosrun
// did not write, started from the binary tools/cometbft/build.sh builds.
func TestConformanceCometBFT(t *testing.T) {
	_, err := cometbft.Binary()
	testenv.Require(t, "the cometbft binary", err)
	runnertest.Conformance(t, cometbft.Name, func(t *testing.T) runners.Runner {
		r, err := New(Options{TeardownGrace: 2 * time.Second, StopTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return r
	})
}

// BenchmarkDeployTenNodes measures the time from Deploy to all ten nodes
// answering GET /cryptarchia/info.
func BenchmarkDeployTenNodes(b *testing.B) {
	r := realRunner(b)
	p := testPlan(10, 0, time.Second)
	ctx := context.Background()
	var inDeploy time.Duration
	for b.Loop() {
		dir := b.TempDir()
		start := time.Now()
		c, err := r.Deploy(ctx, runners.DeploySpec{Plan: p, RunDir: dir, ChainStart: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		inDeploy += time.Since(start)
		if err := allAnswer(ctx, c.Nodes(), 30*time.Second); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.Teardown(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	// The part spent inside Deploy (processes started and listening).
	b.ReportMetric(float64(inDeploy.Milliseconds())/float64(b.N), "deploy-ms/op")
}

// allAnswer polls every node's /cryptarchia/info concurrently until each
// has answered 200 once.
func allAnswer(ctx context.Context, nodes []runners.Node, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() {
			for {
				if ok200(n.API()+"/cryptarchia/info") == nil {
					errs <- nil
					return
				}
				select {
				case <-ctx.Done():
					errs <- fmt.Errorf("%s did not answer: %w", n.Name(), ctx.Err())
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
	}
	for range nodes {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func ok200(url string) error {
	cl := http.Client{Timeout: time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// Executors run from the same generated configs and answer like validators.
func TestDeployValidatorAndExecutor(t *testing.T) {
	r := realRunner(t)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(1, 1, 300*time.Millisecond), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Teardown(ctx)
	nodes := c.Nodes()
	if len(nodes) != 2 || nodes[1].Name() != "executor-0" {
		t.Fatalf("nodes = %v", nodes)
	}
	if err := allAnswer(ctx, nodes, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	cl := nodeapi.NewClient(nodes[1].API(), nodes[1].TestingAPI(), nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		in, err := cl.Info(ctx)
		if err == nil && in.Height >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("executor did not follow the chain: %+v, %v", in, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if exits := c.(*Cluster).Exits(); len(exits) > 0 {
		t.Fatalf("unexpected exits: %v", exits)
	}
}

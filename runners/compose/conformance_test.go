package compose

import (
	"context"
	"errors"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/nodekind/cometbft"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"

	// The reference node kind renders the nodes' configs.
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
)

// referenceKind is the reference node's kind, whose image the tests load.
var referenceKind, _ = nodekind.Get("")

func TestMain(m *testing.M) {
	flag.Parse()
	if dir := os.Getenv(envLeakChild); dir != "" {
		leakChildMain(dir)
	}
	os.Exit(m.Run())
}

var (
	imageOnce sync.Once
	imageErr  error
)

// realRunner is a Compose runner on the real engine, with the node image
// built once per test binary from this checkout.
func realRunner(tb testing.TB) *Runner {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs the Docker engine")
	}
	cli, err := Docker(context.Background())
	testenv.Require(tb, "a Docker engine", err)
	defer cli.Close()
	_, err = composeCLI()
	testenv.Require(tb, "the Compose CLI", err)
	imageOnce.Do(func() { imageErr = LoadImage(context.Background(), cli, nodeimage.DefaultTag(), referenceKind) })
	if imageErr != nil {
		tb.Fatalf("build the node image: %v", imageErr)
	}
	r, err := New(Options{StopTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestConformance(t *testing.T) {
	runnertest.Conformance(t, "", func(t *testing.T) runners.Runner { return realRunner(t) })
}

// TestConformanceCometBFT runs the suite on CometBFT nodes, from the image
// nomosrun builds around the static cometbft binary.
func TestConformanceCometBFT(t *testing.T) {
	r := realRunner(t)
	kind, err := nodekind.Get(cometbft.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cometbft.Binary()
	testenv.Require(t, "the cometbft binary", err)
	cli, err := Docker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	// Built from the binary at hand every time, so the suite never runs an
	// image of another build.
	if err := LoadImage(context.Background(), cli, kind.Program().Image, kind); err != nil {
		t.Fatalf("build the cometbft image: %v", err)
	}
	runnertest.Conformance(t, cometbft.Name, func(t *testing.T) runners.Runner { return r })
}

// TestPreserveAndClean: with Preserve the stack outlives Teardown and keeps
// serving; Clean then removes every container, network and volume of the
// run and says so.
func TestPreserveAndClean(t *testing.T) {
	realRunner(t)
	r, err := New(Options{Preserve: true, StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(1, 0, "star"), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.(*Cluster)
	t.Cleanup(func() { Clean(ctx, cl.cli, cl.RunID()) })
	if err := allAnswer(ctx, c.Nodes(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := allAnswer(ctx, c.Nodes(), 5*time.Second); err != nil {
		t.Fatalf("a preserved node stopped answering: %v", err)
	}
	left, err := cl.Leftovers(ctx)
	if err != nil || len(left) != 4 {
		t.Fatalf("preserved objects = %v (%v), want a container, two networks and a volume", left, err)
	}
	// A clean of every run would leave this one alone: its process (this
	// test) runs. (Cleaning every run here would hit other runs too.)
	objs, err := list(ctx, cl.cli, cl.RunID())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !o.live() {
			t.Errorf("%s (owner %q) is not seen as belonging to a live nomosrun", o, o.Owner)
		}
	}
	removed, _, err := Clean(ctx, cl.cli, cl.RunID())
	if err != nil || len(removed) != 4 {
		t.Fatalf("Clean removed %v (%v), want 4 objects", removed, err)
	}
	if left, _ := cl.Leftovers(ctx); len(left) != 0 {
		t.Fatalf("left after Clean: %v", left)
	}
}

// TestExitedReportsOnlyUnaskedExits: a Kill through the cluster is not
// reported; a container killed behind the runner's back is, by node name.
func TestExitedReportsOnlyUnaskedExits(t *testing.T) {
	r := realRunner(t)
	ctx := context.Background()
	c, err := r.Deploy(ctx, runners.DeploySpec{Plan: testPlan(2, 0, "star"), RunDir: t.TempDir(), ChainStart: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Teardown(ctx)
	cl := c.(*Cluster)
	if err := allAnswer(ctx, c.Nodes(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := cl.Kill(ctx, "validator-1"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Restart(ctx, "validator-0"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-cl.Exited():
		t.Fatalf("an exit the runner caused was reported: %v", err)
	case <-time.After(2 * time.Second):
	}
	if err := cl.cli.ContainerKill(ctx, cl.byName["validator-0"].container, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-cl.Exited():
		var ne *NodeExit
		if !errors.As(err, &ne) || ne.Node != "validator-0" || ne.ExitCode != "137" {
			t.Fatalf("exit report = %v", err)
		}
		t.Logf("reported: %v", err)
	case <-time.After(scaled(10 * time.Second)):
		t.Fatal("a container killed behind the runner's back was not reported")
	}
}

package compose

import (
	"context"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/testenv"
	"github.com/nomosrun/nomosrun/nodeimage"
	"github.com/nomosrun/nomosrun/runners"
	"github.com/nomosrun/nomosrun/runners/runnertest"
)

func TestMain(m *testing.M) {
	flag.Parse()
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
	imageOnce.Do(func() { imageErr = LoadImage(context.Background(), cli, nodeimage.DefaultTag()) })
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
	runnertest.Conformance(t, func(t *testing.T) runners.Runner { return realRunner(t) })
}

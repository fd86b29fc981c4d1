package runnertest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodekind"
	"github.com/nomosrun/nomosrun/runners"
)

// probeTimeout bounds one HTTP call; a frozen node must not stall the suite.
const probeTimeout = 500 * time.Millisecond

var httpClient = &http.Client{Timeout: probeTimeout}

func nodeClient(n runners.Node) *nodeapi.Client {
	return nodeapi.NewClient(n.API(), n.TestingAPI(), httpClient)
}

// height asks a node for its tip height through its kind's client.
func (s *suite) height(ctx context.Context, n runners.Node) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	in, err := s.kind.Client(n.API(), n.TestingAPI()).Info(ctx)
	return in.Height, err
}

// auxAnswers reads the node's second endpoint: the reference node's fault
// hooks through its testing API, another kind's metrics.
func (s *suite) auxAnswers(ctx context.Context, n runners.Node) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if s.kind.Name() == nodekind.Default {
		_, err := nodeClient(n).Faults(ctx)
		return err
	}
	_, err := s.kind.Client(n.API(), n.TestingAPI()).Metrics(ctx)
	return err
}

// eventually polls cond every 100 ms until it returns nil or within passes,
// then fails the test with the last error.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reachHeight waits until node n answers with a height of at least h.
func (s *suite) reachHeight(t *testing.T, ctx context.Context, n runners.Node, h uint64, within time.Duration) uint64 {
	t.Helper()
	var got uint64
	eventually(t, within, fmt.Sprintf("%s reaches height %d", n.Name(), h), func() error {
		v, err := s.height(ctx, n)
		if err != nil {
			return err
		}
		got = v
		if v < h {
			return fmt.Errorf("height %d", v)
		}
		return nil
	})
	return got
}

// mustHeight returns a node's height or fails.
func (s *suite) mustHeight(t *testing.T, ctx context.Context, n runners.Node) uint64 {
	t.Helper()
	var h uint64
	eventually(t, 10*time.Second, n.Name()+" answers", func() error {
		var err error
		h, err = s.height(ctx, n)
		return err
	})
	return h
}

// goesDown waits until node n stops answering its API.
func (s *suite) goesDown(t *testing.T, ctx context.Context, n runners.Node, within time.Duration) {
	t.Helper()
	eventually(t, within, n.Name()+" stops answering", func() error {
		if h, err := s.height(ctx, n); err == nil {
			return fmt.Errorf("still answers (height %d)", h)
		}
		return nil
	})
}

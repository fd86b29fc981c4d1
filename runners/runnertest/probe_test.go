package runnertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodekind"

	// The suite reads the reference node through its kind.
	_ "github.com/nomosrun/nomosrun/nodekind/reference"
)

type urlNode struct{ url string }

func (n urlNode) Name() string       { return "n" }
func (n urlNode) Role() plan.Role    { return plan.RoleValidator }
func (n urlNode) API() string        { return n.url }
func (n urlNode) TestingAPI() string { return n.url }

func TestProbesReadTheNodeAndRejectBadAnswers(t *testing.T) {
	body := `{"lib":"` + strings.Repeat("a", 64) + `","tip":"` + strings.Repeat("b", 64) + `","slot":9,"height":7,"mode":"Online"}`
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cryptarchia/info":
			w.WriteHeader(status)
			w.Write([]byte(body))
		case nodeapi.PathFaults:
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	n := urlNode{srv.URL}
	s := referenceSuite(t)
	if h, err := s.height(ctx, n); err != nil || h != 7 {
		t.Fatalf("height = %d, %v; want 7", h, err)
	}
	if err := s.auxAnswers(ctx, n); err != nil {
		t.Fatalf("testing API: %v", err)
	}
	for _, c := range []struct {
		status int
		body   string
	}{
		{http.StatusInternalServerError, "down"},
		{http.StatusOK, `not json`},
	} {
		status, body = c.status, c.body
		if _, err := s.height(ctx, n); err == nil {
			t.Errorf("height with %d %q succeeded", c.status, c.body)
		}
	}
	srv.Close()
	if _, err := s.height(ctx, n); err == nil {
		t.Fatal("height of a closed server succeeded")
	}
	if err := s.auxAnswers(ctx, n); err == nil {
		t.Fatal("testing API of a closed server answered")
	}
}

// A node that accepts connections but never answers must not stall a probe.
func TestProbeTimesOutOnFrozenServer(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := referenceSuite(t)
	start := time.Now()
	if _, err := s.height(context.Background(), urlNode{srv.URL}); err == nil {
		t.Fatal("frozen server answered")
	}
	if el := time.Since(start); el > 2*probeTimeout {
		t.Fatalf("probe took %v, want about %v", el, probeTimeout)
	}
}

func TestPlanShape(t *testing.T) {
	p := Plan("")
	if len(p.Topology.Nodes) != 2 || p.Topology.Validators != 2 {
		t.Fatalf("topology = %+v", p.Topology)
	}
	if s := p.Topology.Slot.Std(); s < 200*time.Millisecond || s > 500*time.Millisecond {
		t.Fatalf("slot %v outside 200-500ms", s)
	}
}

// referenceSuite is a suite of the reference node kind, for its probes.
func referenceSuite(t *testing.T) *suite {
	t.Helper()
	kind, err := nodekind.Get("")
	if err != nil {
		t.Fatal(err)
	}
	return &suite{kind: kind}
}

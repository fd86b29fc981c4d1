package agent

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// testPrefix keeps these tests' networks apart from kernelnet's own tests,
// whose Clean runs meanwhile in another process and would race with a
// network of this one being closed.
const testPrefix = "nragent-"

// attached builds real namespaces for nodes, serves each through an agent
// Server, and attaches a second network to them through Clients only, as
// the Kubernetes runner does with pods.
func attached(t testing.TB, nodes ...string) *kernelnet.Network {
	t.Helper()
	if err := kernelnet.Available(); err != nil {
		t.Skipf("the network agent's test needs privileges to make namespaces: %v", err)
	}
	ctx := context.Background()
	base, err := kernelnet.Create(ctx, kernelnet.Options{Prefix: testPrefix, Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	var members []kernelnet.Member
	for _, name := range nodes {
		path, _ := base.Namespace(name)
		ep, err := kernelnet.PathEndpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(ep)
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { hs.Close(); srv.Close(); ep.Close() })
		c := NewClient(hs.URL)
		if err := c.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		addr, _ := base.Addr(name)
		members = append(members, kernelnet.Member{Name: name, Addr: addr, Endpoint: c})
	}
	n, err := kernelnet.Attach(kernelnet.Options{}, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestCutAndLossThroughTheAgent(t *testing.T) {
	n := attached(t, "a", "b", "c")
	ctx := context.Background()
	r, err := n.Cut(ctx, "p1", []string{"a"}, []string{"b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Links != 4 || r.Held != 4 {
		t.Errorf("cut: %v", r)
	}
	if r, err := n.Heal(ctx, "p1"); err != nil || r.Held != 4 {
		t.Fatalf("heal: %v %v", r, err)
	}
	r, err = n.Loss(ctx, "l1", []string{"b"}, []string{"c"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r, r.Detail)
	if _, err := n.Heal(ctx, "l1"); err != nil {
		t.Fatal(err)
	}
}

// A cut the agent reports applied but that does not hold must fail
// verification: the agent here drops nothing.
func TestAnAgentThatDropsNothingFailsVerification(t *testing.T) {
	if err := kernelnet.Available(); err != nil {
		t.Skipf("needs privileges to make namespaces: %v", err)
	}
	ctx := context.Background()
	base, err := kernelnet.Create(ctx, kernelnet.Options{Prefix: testPrefix, Nodes: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	var members []kernelnet.Member
	for _, name := range []string{"a", "b"} {
		path, _ := base.Namespace(name)
		ep, err := kernelnet.PathEndpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(NewServer(noDrops{ep}).Handler())
		defer hs.Close()
		addr, _ := base.Addr(name)
		members = append(members, kernelnet.Member{Name: name, Addr: addr, Endpoint: NewClient(hs.URL)})
	}
	n, err := kernelnet.Attach(kernelnet.Options{}, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	r, err := n.Cut(ctx, "p1", []string{"a"}, []string{"b"})
	var ve *kernelnet.VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "0/2 links cut") {
		t.Fatalf("a cut that does not hold: err = %v, want a VerifyError with 0/2 links cut (%v)", err, r.Detail)
	}
}

type noDrops struct{ kernelnet.Endpoint }

func (noDrops) AddDrops(context.Context, string, []kernelnet.Drop) error { return nil }

func TestNoNetemCrossesTheWire(t *testing.T) {
	hs := httptest.NewServer(NewServer(noNetem{}).Handler())
	defer hs.Close()
	err := NewClient(hs.URL).AddDelay(context.Background(), netip.MustParseAddr("10.0.0.1"), time.Second, 0)
	if !errors.Is(err, kernelnet.ErrNoNetem) {
		t.Fatalf("err = %v, want ErrNoNetem", err)
	}
}

type noNetem struct{ kernelnet.Endpoint }

func (noNetem) AddDelay(context.Context, netip.Addr, time.Duration, time.Duration) error {
	return kernelnet.ErrNoNetem
}

func TestUnfitAgentSaysWhy(t *testing.T) {
	srv := NewServer(noNetem{})
	srv.unfit = errors.New("operation not permitted")
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := NewClient(hs.URL).Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "CAP_NET_ADMIN") || ctx.Err() != nil {
		t.Fatalf("Ready = %v, want at once an error naming CAP_NET_ADMIN", err)
	}
}

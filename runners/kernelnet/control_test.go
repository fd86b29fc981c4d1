package kernelnet

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// stuck is an endpoint whose links pass until its rules go in (unless
// broken), and then time out, its own address included unless selfOK: a
// machine too loaded to tell a cut from a slow source, or a cut that holds.
type stuck struct {
	addr   netip.Addr
	selfOK bool
	broken bool
	cut    *bool
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (s stuck) AddDrops(context.Context, string, []Drop) error                         { *s.cut = true; return nil }
func (stuck) RemoveDrops(context.Context, string) error                                { return nil }
func (stuck) AddDelay(context.Context, netip.Addr, time.Duration, time.Duration) error { return nil }
func (stuck) RemoveDelay(context.Context, netip.Addr) error                            { return nil }
func (s stuck) Dial(_ context.Context, to netip.AddrPort, _ time.Duration) (time.Duration, error) {
	if (!*s.cut && !s.broken) || (s.selfOK && to.Addr() == s.addr) {
		return time.Millisecond, nil
	}
	return 0, timeoutErr{}
}
func (s stuck) ListenTCP(context.Context, netip.Addr) (netip.AddrPort, io.Closer, error) {
	return netip.AddrPortFrom(s.addr, 1), io.NopCloser(nil), nil
}
func (stuck) ListenUDP(context.Context, netip.Addr) (Sink, error)         { return nil, errors.New("no") }
func (stuck) SendUDP(context.Context, netip.AddrPort, [8]byte, int) error { return errors.New("no") }
func (stuck) Close() error                                                { return nil }

func stuckNet(t *testing.T, selfOK, broken bool) *Network {
	t.Helper()
	var ms []Member
	cut := new(bool)
	for i, name := range []string{"a", "b"} {
		addr := netip.AddrFrom4([4]byte{10, 9, 9, byte(i + 2)})
		ms = append(ms, Member{Name: name, Addr: addr, Endpoint: stuck{addr, selfOK, broken, cut}})
	}
	n, err := Attach(Options{CutTimeout: time.Millisecond}, ms, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A timeout from a source that cannot reach even itself proves nothing: the
// cut is not verified, and the report says why.
func TestCutFromASlowSourceIsInconclusive(t *testing.T) {
	_, err := stuckNet(t, false, false).Cut(context.Background(), "p", []string{"a"}, []string{"b"})
	if err == nil || !strings.Contains(err.Error(), "inconclusive: a did not reach its own address") {
		t.Fatalf("err = %v, want an inconclusive verification", err)
	}
}

func TestCutFromAResponsiveSourceHolds(t *testing.T) {
	r, err := stuckNet(t, true, false).Cut(context.Background(), "p", []string{"a"}, []string{"b"})
	if err != nil || r.Held != 2 {
		t.Fatalf("%v, %v: want 2/2 links cut", r, err)
	}
}

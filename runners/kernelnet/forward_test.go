package kernelnet

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestForwardLoopback reaches an echo server on this machine's loopback
// from inside each node's namespace, at the same address.
func TestForwardLoopback(t *testing.T) {
	n := newNet(t, "a", "b")
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	target := ln.Addr().(*net.TCPAddr).AddrPort()
	// Before forwarding, the node's own loopback has nothing there.
	if err := inNS(n.byName["a"].ns, func() error {
		c, err := net.DialTimeout("tcp4", target.String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err == nil {
		t.Fatal("the node reached the machine's loopback without forwarding")
	}
	if err := n.ForwardLoopback(target); err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"a", "b"} {
		var c net.Conn
		if err := inNS(n.byName[node].ns, func() (err error) {
			c, err = net.DialTimeout("tcp4", target.String(), 5*time.Second)
			return err
		}); err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "ping" {
			t.Errorf("%s: echo %q, %v; want ping", node, got, err)
		}
	}
	if err := n.ForwardLoopback(netip.MustParseAddrPort("192.0.2.1:4318")); err == nil {
		t.Error("forwarding a non-loopback address was accepted")
	}
}

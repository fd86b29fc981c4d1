package kernelnet

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
)

// ForwardLoopback makes target, a loopback address of this machine
// (127.0.0.1:4318), reachable at the same address from inside every node's
// namespace: a listener there relays each connection to target, dialled
// from this process's namespace. It lets nodes reach a collector or other
// service that listens on the machine's loopback only. The listeners close
// with the network.
func (n *Network) ForwardLoopback(target netip.AddrPort) error {
	if !target.Addr().IsLoopback() {
		return fmt.Errorf("forward %s: not a loopback address", target)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return fmt.Errorf("network %s is closed", n.names.run())
	}
	for _, nn := range n.order {
		if !nn.ns.IsOpen() {
			continue // a namespace made by others (Attach)
		}
		var ln net.Listener
		err := inNS(nn.ns, func() (err error) {
			ln, err = net.Listen("tcp", target.String())
			return err
		})
		if err != nil {
			return fmt.Errorf("forward %s into the namespace of %s: %w", target, nn.name, err)
		}
		n.forwards = append(n.forwards, ln)
		go relay(ln, target.String())
	}
	return nil
}

// relay accepts connections on ln until it closes and pipes each to target.
func relay(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			// This goroutine is not locked to a namespace thread: it
			// dials from the process's own namespace.
			up, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer up.Close()
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(up, c)
				closeWrite(up)
			}()
			io.Copy(c, up)
			closeWrite(c)
			wg.Wait()
		}()
	}
}

// closeWrite half-closes a TCP connection, so the other side sees the end
// of the request or response.
func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

package host

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// Ports are the loopback ports of one node.
type Ports struct {
	API     int // main HTTP API (TCP)
	Testing int // testing HTTP API (TCP)
	P2P     int // peer-to-peer listener (free on both TCP and UDP, for TCP or QUIC transports)
}

// reserved holds every port handed out by this process and not yet
// released, so parallel runs in one process never get the same port even
// after the kernel considers it free again.
var reserved = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// allocPorts picks free loopback ports for n nodes. Each port is found by
// binding 127.0.0.1:0, so the kernel chooses one no other socket holds; the
// sockets stay open until every port is chosen (no duplicates within the
// run) and are closed just before the nodes start. Another process could
// still grab a port in that short window: the runner then retries with new
// ports when a node fails to bind. Release the ports with releasePorts.
func allocPorts(n int) ([]Ports, error) {
	var held []func()
	defer func() {
		for _, c := range held {
			c()
		}
	}()
	reserved.Lock()
	defer reserved.Unlock()
	var got []int
	pick := func(udpToo bool) (int, error) {
		for attempt := 0; attempt < 50; attempt++ {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
			}
			port := l.Addr().(*net.TCPAddr).Port
			if reserved.ports[port] {
				l.Close()
				continue
			}
			closers := []func(){func() { l.Close() }}
			if udpToo {
				u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
				if err != nil {
					l.Close()
					continue
				}
				closers = append(closers, func() { u.Close() })
			}
			held = append(held, closers...)
			got = append(got, port)
			return port, nil
		}
		return 0, errors.New("find a free port on 127.0.0.1: no free port after 50 attempts")
	}
	out := make([]Ports, n)
	for i := range out {
		var err error
		if out[i].API, err = pick(false); err != nil {
			return nil, err
		}
		if out[i].Testing, err = pick(false); err != nil {
			return nil, err
		}
		if out[i].P2P, err = pick(true); err != nil {
			return nil, err
		}
	}
	for _, p := range got {
		reserved.ports[p] = true
	}
	return out, nil
}

// releasePorts returns ports to the pool once their nodes are gone.
func releasePorts(ps []Ports) {
	reserved.Lock()
	defer reserved.Unlock()
	for _, p := range ps {
		delete(reserved.ports, p.API)
		delete(reserved.ports, p.Testing)
		delete(reserved.ports, p.P2P)
	}
}

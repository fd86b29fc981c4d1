package host

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

func allPorts(ps []Ports) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.API, p.Testing, p.P2P)
	}
	return out
}

func TestAllocPortsDistinctAndFree(t *testing.T) {
	ps, err := allocPorts(10)
	if err != nil {
		t.Fatal(err)
	}
	defer releasePorts(ps)
	seen := map[int]bool{}
	for _, p := range allPorts(ps) {
		if p <= 0 || p > 65535 {
			t.Fatalf("port %d out of range", p)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice in %v", p, ps)
		}
		seen[p] = true
	}
	// Every port is free again once allocPorts returns: a node can bind it.
	for _, p := range ps {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.API))
		if err != nil {
			t.Fatalf("API port %d not free: %v", p.API, err)
		}
		l.Close()
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p.P2P))
		if err != nil {
			t.Fatalf("p2p UDP port %d not free: %v", p.P2P, err)
		}
		u.Close()
	}
}

// Parallel runs in one process never share a port while both hold them.
func TestAllocPortsParallelRunsNeverCollide(t *testing.T) {
	const runs = 8
	results := make([][]Ports, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps, err := allocPorts(5)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = ps
		}()
	}
	wg.Wait()
	seen := map[int]int{}
	for run, ps := range results {
		for _, p := range allPorts(ps) {
			if other, dup := seen[p]; dup {
				t.Fatalf("port %d given to runs %d and %d", p, other, run)
			}
			seen[p] = run
		}
	}
	for _, ps := range results {
		releasePorts(ps)
	}
	reserved.Lock()
	left := 0
	for p := range seen {
		if reserved.ports[p] {
			left++
		}
	}
	reserved.Unlock()
	if left != 0 {
		t.Fatalf("%d ports still reserved after release", left)
	}
}

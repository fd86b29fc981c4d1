package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// peersBackTimeout bounds the wait for the nodes to reconnect after a
// kernel cut heals. Reconnecting is the protocol's business, so a slow
// reconnection is reported, not failed: liveness and agreement judge it.
const peersBackTimeout = 20 * time.Second

// peerCounts returns every node's peer count before a cut, for the heal to
// compare with; nil for other faults. A node that does not answer is left
// out.
func (s *Schedule) peerCounts(ctx context.Context, f plan.Fault) map[string]int {
	if f.Kind != plan.FaultPartition && f.Kind != plan.FaultIsolate {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]int{}
	for _, n := range s.env.Nodes {
		wg.Go(func() {
			if ni, err := n.Client.NetworkInfo(ctx); err == nil {
				mu.Lock()
				out[n.Name] = ni.NPeers
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// peersBack waits until every node has at least as many peers as before
// the cut and says how long that took, or who is still short.
func (s *Schedule) peersBack(ctx context.Context, before map[string]int) string {
	start := time.Now()
	for {
		short := s.shortOfPeers(ctx, before)
		if len(short) == 0 {
			return fmt.Sprintf("peers back after %v", time.Since(start).Round(100*time.Millisecond))
		}
		if time.Since(start) >= peersBackTimeout || ctx.Err() != nil {
			return fmt.Sprintf("peers not all back after %v: %s", time.Since(start).Round(100*time.Millisecond), strings.Join(short, ", "))
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// shortOfPeers lists the nodes with fewer peers than before, as
// "name has now/before".
func (s *Schedule) shortOfPeers(ctx context.Context, before map[string]int) []string {
	var short []string
	for _, n := range s.env.Nodes {
		want, ok := before[n.Name]
		if !ok {
			continue
		}
		ni, err := n.Client.NetworkInfo(ctx)
		if err != nil || ni.NPeers < want {
			short = append(short, fmt.Sprintf("%s has %d/%d", n.Name, ni.NPeers, want))
		}
	}
	slices.Sort(short)
	return short
}

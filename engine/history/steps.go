package history

import (
	"container/heap"
	"math"
	"slices"
	"time"
)

// steps is the network's best height over time: each point holds from its
// time until the next point's.
type steps []point

type point struct {
	from time.Duration
	h    uint64
}

// at is the best height at t.
func (s steps) at(t time.Duration) uint64 {
	i, _ := slices.BinarySearchFunc(s, t, func(p point, t time.Duration) int {
		if p.from <= t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0
	}
	return s[i-1].h
}

// passed is the first time in [from, to) at which the best height exceeds
// h, or to when it never does.
func (s steps) passed(h uint64, from, to time.Duration) time.Duration {
	if s.at(from) > h {
		return from
	}
	i, _ := slices.BinarySearchFunc(s, from, func(p point, t time.Duration) int {
		if p.from <= t {
			return -1
		}
		return 1
	})
	for ; i < len(s) && s[i].from < to; i++ {
		if s[i].h > h {
			return s[i].from
		}
	}
	return to
}

// bestSteps merges the nodes' answered samples in time order and keeps the
// maximum height. Before its first answer a node counts with its first
// answered height, as heightAt reads it.
func bestSteps(ss []*series) steps {
	cur := make([]uint64, len(ss))
	m := &merge{ss: ss, pos: make([]int, len(ss))}
	for i, s := range ss {
		m.skipDown(i)
		if m.pos[i] < len(s.samples) {
			cur[i] = s.samples[m.pos[i]].height
			m.idx = append(m.idx, i)
		}
	}
	heap.Init(m)
	var best uint64
	for _, h := range cur {
		best = max(best, h)
	}
	out := steps{{from: math.MinInt64, h: best}}
	for m.Len() > 0 {
		i := m.idx[0]
		x := ss[i].samples[m.pos[i]]
		m.pos[i]++
		if m.skipDown(i); m.pos[i] < len(ss[i].samples) {
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
		old := cur[i]
		cur[i] = x.height
		switch {
		case x.height >= best:
			best = x.height
		case old == best: // the leader fell back (a restart): rescan
			best = slices.Max(cur)
		}
		last := &out[len(out)-1]
		switch {
		case best == last.h:
		case last.from == x.at: // same instant: keep only the settled value
			last.h = best
			if n := len(out); n > 1 && out[n-2].h == best {
				out = out[:n-1]
			}
		default:
			out = append(out, point{x.at, best})
		}
	}
	return out
}

// merge is a heap of series indexes ordered by their next sample's time.
type merge struct {
	ss  []*series
	pos []int
	idx []int
}

func (m *merge) skipDown(i int) {
	s := m.ss[i].samples
	for m.pos[i] < len(s) && s[m.pos[i]].down {
		m.pos[i]++
	}
}

func (m *merge) Len() int { return len(m.idx) }
func (m *merge) Less(a, b int) bool {
	i, j := m.idx[a], m.idx[b]
	return m.ss[i].samples[m.pos[i]].at < m.ss[j].samples[m.pos[j]].at
}
func (m *merge) Swap(a, b int) { m.idx[a], m.idx[b] = m.idx[b], m.idx[a] }
func (m *merge) Push(x any)    { m.idx = append(m.idx, x.(int)) }
func (m *merge) Pop() any {
	x := m.idx[len(m.idx)-1]
	m.idx = m.idx[:len(m.idx)-1]
	return x
}

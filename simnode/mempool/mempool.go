// Package mempool holds the transactions a node has seen but not yet seen
// included, in arrival order, and remembers rejected ones for status
// queries.
package mempool

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

// Pool is a concurrent transaction pool with a size cap.
type Pool struct {
	mu       sync.Mutex
	max      int
	txs      map[nodeapi.Hash]*entry
	seq      uint64
	rejected map[nodeapi.Hash]struct{}
	last     time.Time
}

type entry struct {
	tx  wire.Tx
	seq uint64
}

// New returns a pool of at most max transactions.
func New(max int) *Pool {
	return &Pool{max: max, txs: map[nodeapi.Hash]*entry{}, rejected: map[nodeapi.Hash]struct{}{}}
}

// Add inserts tx; it reports false when tx is already there or the pool is
// full.
func (p *Pool) Add(h nodeapi.Hash, tx wire.Tx) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.txs[h]; ok || len(p.txs) >= p.max {
		return false
	}
	p.seq++
	p.txs[h] = &entry{tx: tx, seq: p.seq}
	p.last = time.Now()
	return true
}

// Has reports whether h is pending.
func (p *Pool) Has(h nodeapi.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.txs[h]
	return ok
}

// Remove drops included transactions.
func (p *Pool) Remove(hs []nodeapi.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hs {
		delete(p.txs, h)
	}
}

// Reject drops h and remembers it as rejected.
func (p *Pool) Reject(h nodeapi.Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.txs, h)
	if len(p.rejected) > 100000 {
		clear(p.rejected)
	}
	p.rejected[h] = struct{}{}
}

// Rejected reports whether h was rejected.
func (p *Pool) Rejected(h nodeapi.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.rejected[h]
	return ok
}

// Pending returns up to n transactions, oldest first, with their hashes.
func (p *Pool) Pending(n int) ([]nodeapi.Hash, []wire.Tx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	type item struct {
		h nodeapi.Hash
		e *entry
	}
	items := make([]item, 0, len(p.txs))
	for h, e := range p.txs {
		items = append(items, item{h, e})
	}
	// Sort by arrival; pools are small enough that this is cheap.
	slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.e.seq, b.e.seq) })
	if len(items) > n {
		items = items[:n]
	}
	hs := make([]nodeapi.Hash, len(items))
	txs := make([]wire.Tx, len(items))
	for i, it := range items {
		hs[i], txs[i] = it.h, it.e.tx
	}
	return hs, txs
}

// Len is the number of pending transactions.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.txs)
}

// LastAdded is when the last transaction arrived (zero if none).
func (p *Pool) LastAdded() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

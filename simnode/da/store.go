package da

import (
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Store keeps the shares a node holds, by blob id and column. It does not
// verify: callers Verify a share before they Put it. It is safe for
// concurrent use.
type Store struct {
	mu    sync.RWMutex
	blobs map[[32]byte]*storedBlob
}

type storedBlob struct {
	commitments [][]byte
	shares      map[int]Share
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{blobs: map[[32]byte]*storedBlob{}}
}

// Put stores a share. Putting the same column again replaces it. A share
// whose row commitments differ from those already held for its blob id is
// refused.
func (st *Store) Put(s Share) error {
	if len(s.Commitments) == 0 {
		return fmt.Errorf("share of column %d has no row commitments", s.Column)
	}
	if s.Column < 0 {
		return fmt.Errorf("negative column index %d", s.Column)
	}
	s = cloneShare(s)
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.blobs[s.BlobID]
	if !ok {
		b = &storedBlob{commitments: s.Commitments, shares: map[int]Share{}}
		st.blobs[s.BlobID] = b
	} else if !slices.EqualFunc(b.commitments, s.Commitments, slices.Equal) {
		return fmt.Errorf("share of column %d disagrees with the row commitments held for its blob", s.Column)
	}
	b.shares[s.Column] = s
	return nil
}

// Shares returns copies of the shares held for a blob, by column order; nil
// if none.
func (st *Store) Shares(blobID [32]byte) []Share {
	st.mu.RLock()
	defer st.mu.RUnlock()
	b, ok := st.blobs[blobID]
	if !ok {
		return nil
	}
	out := make([]Share, 0, len(b.shares))
	for _, s := range b.shares {
		out = append(out, cloneShare(s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Column < out[j].Column })
	return out
}

// Share returns a copy of one column of a blob.
func (st *Store) Share(blobID [32]byte, column int) (Share, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	b, ok := st.blobs[blobID]
	if !ok {
		return Share{}, false
	}
	s, ok := b.shares[column]
	if !ok {
		return Share{}, false
	}
	return cloneShare(s), true
}

// Commitments returns a copy of the row commitments held for a blob.
func (st *Store) Commitments(blobID [32]byte) ([][]byte, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	b, ok := st.blobs[blobID]
	if !ok {
		return nil, false
	}
	return cloneBytes(b.commitments), true
}

// BlobIDs lists the blobs held, in byte order.
func (st *Store) BlobIDs() [][32]byte {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([][32]byte, 0, len(st.blobs))
	for id := range st.blobs {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b [32]byte) int { return slices.Compare(a[:], b[:]) })
	return out
}

func cloneShare(s Share) Share {
	s.Data = cloneBytes(s.Data)
	s.Commitments = cloneBytes(s.Commitments)
	s.Proof = append([]byte(nil), s.Proof...)
	return s
}

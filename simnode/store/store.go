// Package store persists a node's blocks and its last immutable block in a
// bbolt file, so a node killed at any moment restarts from disk.
package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

var (
	bucketBlocks = []byte("blocks")
	bucketMeta   = []byte("meta")
	keyLIB       = []byte("lib")
)

// Store is a node's block store.
type Store struct{ db *bolt.DB }

// Open opens (or creates) the store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "chain.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBlocks, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// PutBlock stores a block under its id.
func (s *Store) PutBlock(b *wire.Block) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	id := b.ID()
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlocks).Put(id[:], data) })
}

// SetLIB records the last immutable block.
func (s *Store) SetLIB(id nodeapi.Hash) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyLIB, id[:]) })
}

// LIB is the recorded last immutable block, if any.
func (s *Store) LIB() (nodeapi.Hash, bool, error) {
	var id nodeapi.Hash
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyLIB); len(v) == len(id) {
			copy(id[:], v)
			ok = true
		}
		return nil
	})
	return id, ok, err
}

// Blocks calls f for every stored block, in no particular order.
func (s *Store) Blocks(f func(*wire.Block) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlocks).ForEach(func(k, v []byte) error {
			var b wire.Block
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("storage: block %x: %w", k, err)
			}
			return f(&b)
		})
	})
}

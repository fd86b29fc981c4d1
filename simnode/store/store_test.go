package store

import (
	"testing"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/simnode/wire"
)

func TestBlocksAndLIBSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := &wire.Block{Header: wire.Header{Version: wire.BlockVersion, Slot: 7}, Signature: make(nodeapi.Bytes, 64)}
	if err := s.PutBlock(b); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLIB(b.ID()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []*wire.Block
	if err := s.Blocks(func(b *wire.Block) error { got = append(got, b); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID() != b.ID() {
		t.Errorf("blocks after reopen: %d", len(got))
	}
	if lib, ok, err := s.LIB(); err != nil || !ok || lib != b.ID() {
		t.Errorf("lib %v %v %v", lib, ok, err)
	}
}

package da

import (
	"sync"
	"testing"
)

func TestStoreConcurrent(t *testing.T) {
	id, shares := encode(t, 8, randomBlob(31, 300))
	id2, shares2 := encode(t, 2, randomBlob(32, 300))
	st := NewStore()
	var wg sync.WaitGroup
	for round := range 4 {
		for _, s := range append(shares, shares2...) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := st.Put(s); err != nil {
					t.Errorf("round %d put column %d: %v", round, s.Column, err)
				}
				_ = st.Shares(s.BlobID)
			}()
		}
	}
	wg.Wait()
	got := st.Shares(id)
	if len(got) != 8 {
		t.Fatalf("stored %d shares, want 8", len(got))
	}
	for j, s := range got {
		if s.Column != j {
			t.Fatalf("shares not in column order: %d at %d", s.Column, j)
		}
	}
	if len(st.Shares(id2)) != 2 || len(st.BlobIDs()) != 2 {
		t.Fatalf("second blob: %d shares, %d blobs", len(st.Shares(id2)), len(st.BlobIDs()))
	}
	c, ok := st.Commitments(id)
	if !ok || len(c) != len(shares[0].Commitments) {
		t.Fatalf("commitments: %v %d", ok, len(c))
	}
	// Returned values are copies.
	c[0][0] ^= 1
	got[0].Data[0][0] ^= 1
	c2, _ := st.Commitments(id)
	if c2[0][0] == c[0][0] || st.Shares(id)[0].Data[0][0] == got[0].Data[0][0] {
		t.Fatal("store exposed its internal slices")
	}
	if _, ok := st.Share(id, 5); !ok {
		t.Fatal("Share(id, 5) not found")
	}
}

func TestStoreRejects(t *testing.T) {
	var unknown [32]byte
	st := NewStore()
	if st.Shares(unknown) != nil {
		t.Fatal("unknown blob has shares")
	}
	if _, ok := st.Commitments(unknown); ok {
		t.Fatal("unknown blob has commitments")
	}
	_, shares := encode(t, 4, randomBlob(33, 100))
	if err := st.Put(shares[0]); err != nil {
		t.Fatal(err)
	}
	bad := cloneShare(shares[1])
	bad.Commitments[0][3] ^= 1
	if err := st.Put(bad); err == nil {
		t.Fatal("share with other commitments for the same blob id was stored")
	}
	empty := Share{Column: 1}
	if err := st.Put(empty); err == nil {
		t.Fatal("share without commitments was stored")
	}
	neg := cloneShare(shares[1])
	neg.Column = -1
	if err := st.Put(neg); err == nil {
		t.Fatal("negative column stored")
	}
}

package da

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"testing"
)

func TestRoundTripEveryHalf(t *testing.T) {
	p := params(t)
	sizes := []int{0, 1, 30, 31, 32, 61, 62, 63, 124, 1000, 4096 + 7}
	for _, columns := range []int{2, 4, 8} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("n%d/%dB", columns, size), func(t *testing.T) {
				data := randomBlob(uint64(size), size)
				id, shares := encode(t, columns, data)
				if len(shares) != columns {
					t.Fatalf("got %d shares, want %d", len(shares), columns)
				}
				for j, s := range shares {
					if s.Column != j || s.BlobID != id {
						t.Fatalf("share %d: column %d, blob id %x; want %d, %x", j, s.Column, s.BlobID, j, id)
					}
					if err := Verify(p, s); err != nil {
						t.Fatalf("share %d does not verify: %v", j, err)
					}
				}
				// Every subset of exactly half the columns.
				for mask := uint(0); mask < 1<<columns; mask++ {
					if bits.OnesCount(mask) != columns/2 {
						continue
					}
					var subset []Share
					for j := range columns {
						if mask&(1<<j) != 0 {
							subset = append(subset, shares[j])
						}
					}
					got, err := Reconstruct(p, Config{Columns: columns}, subset)
					if err != nil {
						t.Fatalf("reconstruct from mask %b: %v", mask, err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("reconstruct from mask %b: got %d bytes, want %d (differ)", mask, len(got), len(data))
					}
				}
			})
		}
	}
}

func TestSystematicColumns(t *testing.T) {
	// The first half of the columns hold the data chunks themselves.
	data := randomBlob(7, 4*31)
	_, shares := encode(t, 8, data)
	for j := range 4 {
		cell := shares[j].Data[0]
		if cell[0] != 0 || !bytes.Equal(cell[1:], data[j*31:(j+1)*31]) {
			t.Fatalf("column %d row 0 = %x, want chunk %d of the data", j, cell, j)
		}
	}
}

func TestReconstructLargeCodeFromParityHalf(t *testing.T) {
	p := params(t)
	data := randomBlob(3, 20000)
	_, shares := encode(t, 64, data)
	// Only parity columns, in reverse order, plus duplicates.
	var subset []Share
	for j := 63; j >= 32; j-- {
		subset = append(subset, shares[j], shares[j])
	}
	got, err := Reconstruct(p, Config{Columns: 64}, subset)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("reconstructed data differs from the input")
	}
}

func TestReconstructTooFewColumns(t *testing.T) {
	p := params(t)
	_, shares := encode(t, 8, randomBlob(1, 500))
	tampered := cloneShare(shares[5])
	tampered.Data[0][31] ^= 1
	_, err := Reconstruct(p, Config{Columns: 8}, []Share{shares[0], shares[1], shares[2], tampered})
	if err == nil {
		t.Fatal("reconstruct from 3 good columns and a tampered one succeeded")
	}
	for _, want := range []string{"need 4 distinct valid columns", "have 3", "column 5"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %q", err, want)
		}
	}
}

func TestReconstructSkipsBadShares(t *testing.T) {
	p := params(t)
	data := randomBlob(9, 700)
	_, shares := encode(t, 4, data)
	bad := cloneShare(shares[0])
	bad.Proof = cloneShare(shares[1]).Proof
	got, err := Reconstruct(p, Config{Columns: 4}, []Share{bad, shares[3], shares[2]})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("reconstructed data differs from the input")
	}
}

func TestTamperedSharesRejected(t *testing.T) {
	p := params(t)
	_, shares := encode(t, 4, randomBlob(11, 3000))
	otherID, others := encode(t, 4, randomBlob(12, 3000))
	cases := map[string]func(s *Share){
		"data bit":          func(s *Share) { s.Data[3][20] ^= 0x10 },
		"data swapped rows": func(s *Share) { s.Data[0], s.Data[1] = s.Data[1], s.Data[0] },
		"data non-canonical": func(s *Share) {
			for i := range s.Data[0] {
				s.Data[0][i] = 0xff
			}
		},
		"data short cell":       func(s *Share) { s.Data[0] = s.Data[0][:31] },
		"data missing row":      func(s *Share) { s.Data = s.Data[:len(s.Data)-1] },
		"proof bit":             func(s *Share) { s.Proof[10] ^= 1 },
		"proof of other column": func(s *Share) { s.Proof = cloneShare(shares[2]).Proof },
		"proof truncated":       func(s *Share) { s.Proof = s.Proof[:47] },
		"commitment bit":        func(s *Share) { s.Commitments[1][5] ^= 1 },
		"commitment and blob id": func(s *Share) {
			s.Commitments[1] = cloneShare(others[0]).Commitments[1]
			s.BlobID = blobIDOf(s.Commitments)
		},
		"commitments of other blob": func(s *Share) {
			s.Commitments = cloneShare(others[0]).Commitments
			s.BlobID = otherID
		},
		"blob id":      func(s *Share) { s.BlobID[0] ^= 1 },
		"column index": func(s *Share) { s.Column = 0 },
		"column range": func(s *Share) { s.Column = MaxColumnIndex },
		"no rows":      func(s *Share) { s.Data, s.Commitments = nil, nil },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			s := cloneShare(shares[1])
			tamper(&s)
			err := Verify(p, s)
			if err == nil {
				t.Fatal("tampered share verified")
			}
			if !errors.Is(err, ErrInvalidShare) {
				t.Fatalf("error %v does not wrap ErrInvalidShare", err)
			}
		})
	}
	// The original is untouched by the tampering above.
	if err := Verify(p, shares[1]); err != nil {
		t.Fatalf("original share: %v", err)
	}
}

func TestBlobIDDeterministic(t *testing.T) {
	data := randomBlob(5, 2000)
	id1, s1 := encode(t, 8, data)
	id2, s2 := encode(t, 8, append([]byte(nil), data...))
	if id1 != id2 {
		t.Fatalf("blob ids differ: %x vs %x", id1, id2)
	}
	for j := range s1 {
		if !bytes.Equal(s1[j].Proof, s2[j].Proof) {
			t.Fatalf("proof of column %d differs between runs", j)
		}
	}
	id3, _ := encode(t, 8, append(data, 0))
	if id3 == id1 {
		t.Fatal("a trailing zero byte did not change the blob id")
	}
	id4, _ := encode(t, 4, data)
	if id4 == id1 {
		t.Fatal("the column count did not change the blob id")
	}
}

func TestEmptyBlob(t *testing.T) {
	p := params(t)
	_, shares := encode(t, 2, nil)
	if len(shares[0].Data) != 1 {
		t.Fatalf("empty blob has %d rows, want 1", len(shares[0].Data))
	}
	got, err := Reconstruct(p, Config{Columns: 2}, shares[1:])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("reconstructed %d bytes, want 0", len(got))
	}
}

func TestMaxSizeBlob(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes a 512 KiB blob")
	}
	p := params(t)
	data := randomBlob(13, MaxBlobSize)
	_, shares := encode(t, 32, data)
	if err := Verify(p, shares[31]); err != nil {
		t.Fatal(err)
	}
	got, err := Reconstruct(p, Config{Columns: 32}, shares[16:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("reconstructed data differs from the input")
	}
	if _, _, err := Encode(p, Config{Columns: 32}, make([]byte, MaxBlobSize+1)); err == nil ||
		!strings.Contains(err.Error(), "exceeds the maximum") {
		t.Fatalf("oversized blob: err = %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	p := params(t)
	for _, columns := range []int{-2, 0, 1, 3, 6, 12, p.MaxColumns() * 2} {
		if _, _, err := Encode(p, Config{Columns: columns}, []byte("x")); err == nil {
			t.Errorf("Encode with %d columns succeeded", columns)
		}
		if _, err := Reconstruct(p, Config{Columns: columns}, nil); err == nil {
			t.Errorf("Reconstruct with %d columns succeeded", columns)
		}
	}
}

func TestColumnPointsMatchFFTOrder(t *testing.T) {
	// x_j for j < n must be the n-th roots of unity in bit-reversed order.
	p := params(t)
	for _, n := range []int{2, 8, 64} {
		gen := p.domain(n).Generator
		for j := range n {
			e := bits.Reverse32(uint32(j)) >> (32 - bits.TrailingZeros(uint(n)))
			var want = gen
			want.SetOne()
			for range e {
				want.Mul(&want, &gen)
			}
			if got := columnPoint(j); !got.Equal(&want) {
				t.Fatalf("n=%d: x_%d differs from ω_n^bitrev(%d)", n, j, j)
			}
		}
	}
}

func TestReconstructWrongColumnCount(t *testing.T) {
	p := params(t)
	_, shares := encode(t, 8, randomBlob(17, 900))
	// The first two columns of an 8-column code are valid shares, but not
	// half of a 4-column code.
	_, err := Reconstruct(p, Config{Columns: 4}, shares[:2])
	if err == nil || !strings.Contains(err.Error(), "do not match the row commitments") {
		t.Fatalf("err = %v", err)
	}
}

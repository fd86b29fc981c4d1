package da

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"golang.org/x/crypto/blake2b"
)

const (
	// ChunkSize is the number of blob bytes held by one field element.
	ChunkSize = 31
	// CellSize is the encoded size of one cell of a column (a canonical
	// big-endian Fr element).
	CellSize = fr.Bytes
	// CommitmentSize is the size of a compressed BLS12-381 G1 point (a row
	// commitment or a column proof).
	CommitmentSize = 48

	// logPointDomain fixes the evaluation points of every column index:
	// column j is evaluated at ω^bitrev16(j), ω a 2^16-th root of unity.
	logPointDomain = 16
	// MaxColumnIndex bounds column indices (exclusive).
	MaxColumnIndex = 1 << logPointDomain
)

// pointRoot is ω, the 2^16-th root of unity gnark-crypto's FFT domains use.
var pointRoot = func() fr.Element {
	w, err := fr.Generator(MaxColumnIndex)
	if err != nil {
		panic(err) // BLS12-381 Fr has 2-adicity 32; cannot happen
	}
	return w
}()

// columnPoint is the evaluation point x_j of column j. For a code of n
// columns (n a power of two), {x_0..x_{n-1}} are the n-th roots of unity in
// bit-reversed order, which is the output order of a DIF FFT of size n.
func columnPoint(j int) fr.Element {
	e := bits.Reverse16(uint16(j))
	var x fr.Element
	x.Exp(pointRoot, new(big.Int).SetUint64(uint64(e)))
	return x
}

// combineChallenge is the Fiat-Shamir challenge that folds the rows of one
// column: it covers the blob id (hence every row commitment), the column
// index and every cell of the column.
func combineChallenge(blobID [32]byte, column int, cells []fr.Element) fr.Element {
	h, _ := blake2b.New256(nil)
	h.Write([]byte("nomosrun/da/combined-column/v1"))
	h.Write(blobID[:])
	var idx [4]byte
	binary.BigEndian.PutUint32(idx[:], uint32(column))
	h.Write(idx[:])
	for i := range cells {
		b := cells[i].Bytes()
		h.Write(b[:])
	}
	var out fr.Element
	out.SetBytes(h.Sum(nil)) // reduced modulo r
	return out
}

// BlobIDFromCommitments returns the blob id of a blob with these row
// commitments: the Blake2b-256 hash of the compressed commitments in row
// order.
func BlobIDFromCommitments(commitments [][]byte) [32]byte { return blobIDOf(commitments) }

// blobIDOf hashes the compressed row commitments.
func blobIDOf(commitments [][]byte) [32]byte {
	h, _ := blake2b.New256(nil)
	for _, c := range commitments {
		h.Write(c)
	}
	var id [32]byte
	copy(id[:], h.Sum(nil))
	return id
}

// powers returns 1, h, h², … (n values).
func powers(h fr.Element, n int) []fr.Element {
	out := make([]fr.Element, n)
	if n == 0 {
		return out
	}
	out[0].SetOne()
	for i := 1; i < n; i++ {
		out[i].Mul(&out[i-1], &h)
	}
	return out
}

// decodeCells parses a column's cells; each must be a canonical Fr element.
func decodeCells(data [][]byte) ([]fr.Element, error) {
	cells := make([]fr.Element, len(data))
	for i, d := range data {
		if len(d) != CellSize {
			return nil, fmt.Errorf("cell %d has %d bytes, want %d", i, len(d), CellSize)
		}
		if err := cells[i].SetBytesCanonical(d); err != nil {
			return nil, fmt.Errorf("cell %d: %w", i, err)
		}
	}
	return cells, nil
}

// chunkBytes returns the 31 data bytes held by an element of an original
// (systematic) position; its top byte must be zero.
func chunkBytes(e *fr.Element) ([]byte, error) {
	b := e.Bytes()
	if b[0] != 0 {
		return nil, errors.New("element does not hold a 31-byte chunk")
	}
	return b[1:], nil
}

// validate checks the column count against the parameters.
func (c Config) validate(p *Params) error {
	n := c.Columns
	if n < 2 || n&(n-1) != 0 {
		return fmt.Errorf("columns must be a power of two >= 2, got %d", n)
	}
	if n > p.MaxColumns() {
		return fmt.Errorf("columns %d exceed what the KZG parameters support (%d)", n, p.MaxColumns())
	}
	return nil
}

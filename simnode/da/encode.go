package da

import (
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"

	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/fft"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
)

// MaxBlobSize is the largest blob Encode accepts, in bytes.
const MaxBlobSize = 512 << 10

// padMarker ends the data before the zero padding, so that the exact length
// is recovered from the committed rows alone.
const padMarker = 0x80

// Config is the shape of the code.
type Config struct {
	// Columns is the number of columns, one per DA subnet: a power of two,
	// at least 2. Rows hold Columns/2 data elements.
	Columns int
}

// Share is one column of an encoded blob, as sent to the members of subnet
// Column. Its JSON form is the Nomos DaShare plus "blob_id" (see json.go).
type Share struct {
	BlobID      [32]byte
	Column      int
	Data        [][]byte // one 32-byte cell per row
	Commitments [][]byte // one 48-byte compressed G1 commitment per row
	Proof       []byte   // 48-byte compressed G1 combined column proof
}

// encodedRow is one row: its polynomial (coefficients) and its values on
// every column, in column order.
type encodedRow struct {
	coeffs []fr.Element
	values []fr.Element
}

// Encode erasure-codes data into cfg.Columns shares, commits to every row
// and returns the blob id with one share per column (shares[j].Column == j).
func Encode(p *Params, cfg Config, data []byte) (blobID [32]byte, shares []Share, err error) {
	if err := cfg.validate(p); err != nil {
		return blobID, nil, err
	}
	if len(data) > MaxBlobSize {
		return blobID, nil, fmt.Errorf("blob of %d bytes exceeds the maximum of %d", len(data), MaxBlobSize)
	}
	n, k := cfg.Columns, cfg.Columns/2
	elems := chunk(data, k)
	rows := make([]encodedRow, len(elems)/k)
	commitments := make([]bls12381.G1Affine, len(rows))
	small, large := p.domain(k), p.domain(n)
	err = parallelRows(len(rows), func(i int) error {
		rows[i] = extendRow(elems[i*k:(i+1)*k], small, large)
		return commitRow(p, rows[i].coeffs, &commitments[i])
	})
	if err != nil {
		return blobID, nil, fmt.Errorf("commit rows: %w", err)
	}
	encoded := make([][]byte, len(rows))
	for i := range commitments {
		b := commitments[i].Bytes()
		encoded[i] = b[:]
	}
	blobID = blobIDOf(encoded)

	shares = make([]Share, n)
	err = parallelRows(n, func(j int) error {
		s, err := columnShare(p, blobID, j, rows)
		s.Commitments = cloneBytes(encoded) // shares are independent values
		shares[j] = s
		return err
	})
	if err != nil {
		return blobID, nil, fmt.Errorf("prove columns: %w", err)
	}
	return blobID, shares, nil
}

// commitRow commits to one row polynomial. Below 4 coefficients a plain
// scalar multiplication (GLV) is several times faster than gnark-crypto's
// multi-exponentiation, whose setup dominates at that size.
func commitRow(p *Params, coeffs []fr.Element, out *bls12381.G1Affine) error {
	if len(coeffs) >= 4 {
		c, err := kzg.Commit(coeffs, p.srs.Pk, 1)
		*out = c
		return err
	}
	var acc, term bls12381.G1Jac
	var s big.Int
	for i := range coeffs {
		term.FromAffine(&p.srs.Pk.G1[i])
		term.ScalarMultiplication(&term, coeffs[i].BigInt(&s))
		acc.AddAssign(&term)
	}
	out.FromJacobian(&acc)
	return nil
}

// chunk pads data with the marker and zeros to whole rows of k elements and
// turns every 31-byte chunk into a field element.
func chunk(data []byte, k int) []fr.Element {
	rowBytes := ChunkSize * k
	rows := (len(data) + 1 + rowBytes - 1) / rowBytes
	padded := make([]byte, rows*rowBytes)
	copy(padded, data)
	padded[len(data)] = padMarker
	elems := make([]fr.Element, rows*k)
	for i := range elems {
		elems[i].SetBytes(padded[i*ChunkSize : (i+1)*ChunkSize])
	}
	return elems
}

// extendRow interpolates the k data elements (the values at x_0..x_{k-1})
// and evaluates the polynomial at x_0..x_{2k-1}.
func extendRow(data []fr.Element, small, large *fft.Domain) encodedRow {
	k := len(data)
	coeffs := make([]fr.Element, k)
	copy(coeffs, data)
	if k > 1 {
		// data is the k-domain evaluation vector in bit-reversed order.
		small.FFTInverse(coeffs, fft.DIT, fft.WithNbTasks(1))
	}
	values := make([]fr.Element, 2*k)
	copy(values, coeffs)
	// A DIF FFT leaves the values in bit-reversed order: values[j] = p(x_j).
	large.FFT(values, fft.DIF, fft.WithNbTasks(1))
	return encodedRow{coeffs: coeffs, values: values}
}

// columnShare builds the share of column j with its combined proof.
func columnShare(p *Params, blobID [32]byte, j int, rows []encodedRow) (Share, error) {
	cells := make([]fr.Element, len(rows))
	data := make([][]byte, len(rows))
	for i := range rows {
		cells[i] = rows[i].values[j]
		b := cells[i].Bytes()
		data[i] = b[:]
	}
	h := powers(combineChallenge(blobID, j, cells), len(rows))
	combined := make([]fr.Element, len(rows[0].coeffs))
	var t fr.Element
	for i := range rows {
		for c := range combined {
			t.Mul(&rows[i].coeffs[c], &h[i])
			combined[c].Add(&combined[c], &t)
		}
	}
	proof, err := kzg.Open(combined, columnPoint(j), p.srs.Pk)
	if err != nil {
		return Share{}, err
	}
	pb := proof.H.Bytes()
	return Share{BlobID: blobID, Column: j, Data: data, Proof: pb[:]}, nil
}

// parallelRows runs f(0..count-1) on GOMAXPROCS workers and returns the
// errors joined. Work items are small (one row or column), so each runs
// single-threaded and the parallelism is across items.
func parallelRows(count int, f func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), count)
	var (
		next     = make(chan int)
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

// cloneBytes deep-copies a list of byte strings.
func cloneBytes(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

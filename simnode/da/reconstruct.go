package da

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/fft"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
)

// Reconstruct recovers the blob from any cfg.Columns/2 distinct columns of
// it. Every share is verified first; shares that fail, belong to another
// blob, or repeat a column are left out, and the call fails only when fewer
// than Columns/2 good columns remain.
func Reconstruct(p *Params, cfg Config, shares []Share) ([]byte, error) {
	if err := cfg.validate(p); err != nil {
		return nil, err
	}
	k := cfg.Columns / 2
	good, err := pickColumns(p, cfg, shares)
	if err != nil {
		return nil, err
	}
	rows := len(good[0].Data)
	weights := interpolationWeights(good)
	cols := make([][]fr.Element, k)
	for m := range good {
		// Verified above, so decoding cannot fail.
		cols[m], _ = decodeCells(good[m].Data)
	}
	elems := make([]fr.Element, rows*k)
	var t fr.Element
	for r := range rows {
		for j := range k {
			acc := &elems[r*k+j]
			for m := range k {
				t.Mul(&weights[j][m], &cols[m][r])
				acc.Add(acc, &t)
			}
		}
	}
	if err := checkRows(p, elems, k, good[0].Commitments); err != nil {
		return nil, fmt.Errorf("%w (is %d the column count the blob was encoded with?)", err, cfg.Columns)
	}
	out := make([]byte, 0, rows*k*ChunkSize)
	for i := range elems {
		b, err := chunkBytes(&elems[i])
		if err != nil {
			return nil, fmt.Errorf("row %d element %d: %w", i/k, i%k, err)
		}
		out = append(out, b...)
	}
	return unpad(out)
}

// checkRows confirms that the interpolated rows are the committed ones:
// with a random r, Commit(Σ rⁱ·pᵢ) must equal Σ rⁱ·Cᵢ. This catches a wrong
// column count and commitments to polynomials of degree >= k, which
// column proofs alone cannot.
func checkRows(p *Params, elems []fr.Element, k int, commitments [][]byte) error {
	rows := len(elems) / k
	var r fr.Element
	if _, err := r.SetRandom(); err != nil {
		return err
	}
	rs := powers(r, rows)
	small := p.domain(k)
	combined := make([]fr.Element, k)
	coeffs := make([]fr.Element, k)
	var t fr.Element
	for i := range rows {
		copy(coeffs, elems[i*k:(i+1)*k])
		if k > 1 {
			small.FFTInverse(coeffs, fft.DIT, fft.WithNbTasks(1))
		}
		for c := range coeffs {
			t.Mul(&coeffs[c], &rs[i])
			combined[c].Add(&combined[c], &t)
		}
	}
	got, err := kzg.Commit(combined, p.srs.Pk)
	if err != nil {
		return err
	}
	points, err := decodePoints(commitments)
	if err != nil {
		return err
	}
	var want bls12381.G1Affine
	if _, err := want.MultiExp(points, rs, ecc.MultiExpConfig{}); err != nil {
		return err
	}
	if !got.Equal(&want) {
		return errors.New("reconstructed rows do not match the row commitments")
	}
	return nil
}

// pickColumns verifies the shares and returns k good ones of one blob,
// sorted by column.
func pickColumns(p *Params, cfg Config, shares []Share) ([]Share, error) {
	k := cfg.Columns / 2
	byColumn := map[int]Share{}
	var rejected []string
	var blob *[32]byte
	for _, s := range shares {
		if s.Column < 0 || s.Column >= cfg.Columns {
			rejected = append(rejected, fmt.Sprintf("column %d: outside 0..%d", s.Column, cfg.Columns-1))
			continue
		}
		if _, dup := byColumn[s.Column]; dup {
			continue
		}
		if blob != nil && s.BlobID != *blob {
			rejected = append(rejected, fmt.Sprintf("column %d: other blob", s.Column))
			continue
		}
		if err := Verify(p, s); err != nil {
			rejected = append(rejected, fmt.Sprintf("column %d: %v", s.Column, err))
			continue
		}
		id := s.BlobID
		blob = &id
		byColumn[s.Column] = s
	}
	if len(byColumn) < k {
		msg := fmt.Sprintf("need %d distinct valid columns to reconstruct, have %d", k, len(byColumn))
		if len(rejected) > 0 {
			msg += " (rejected: " + strings.Join(rejected, "; ") + ")"
		}
		return nil, errors.New(msg)
	}
	good := make([]Share, 0, len(byColumn))
	for _, s := range byColumn {
		good = append(good, s)
	}
	sort.Slice(good, func(a, b int) bool { return good[a].Column < good[b].Column })
	return good[:k], nil
}

// interpolationWeights returns W with W[j][m] = L_m(x_j): the Lagrange basis
// of the given columns' points evaluated at the original positions
// x_0..x_{k-1}, so that element j of a row is Σ_m W[j][m]·cell_m.
// Hand-written because gnark-crypto only interpolates on whole FFT domains,
// and k is at most a few thousand.
func interpolationWeights(cols []Share) [][]fr.Element {
	k := len(cols)
	xs := make([]fr.Element, k)
	for m := range cols {
		xs[m] = columnPoint(cols[m].Column)
	}
	// Barycentric weights b_m = 1 / Π_{i≠m} (x_m - x_i).
	bw := make([]fr.Element, k)
	var d fr.Element
	for m := range k {
		bw[m].SetOne()
		for i := range k {
			if i != m {
				d.Sub(&xs[m], &xs[i])
				bw[m].Mul(&bw[m], &d)
			}
		}
	}
	bw = fr.BatchInvert(bw)
	w := make([][]fr.Element, k)
	for j := range k {
		w[j] = make([]fr.Element, k)
		target := columnPoint(j)
		if at := indexOf(cols, j); at >= 0 { // the original column itself
			w[j][at].SetOne()
			continue
		}
		// L_m(t) = ℓ(t)·b_m/(t - x_m), ℓ(t) = Π (t - x_i).
		diffs := make([]fr.Element, k)
		var ell fr.Element
		ell.SetOne()
		for m := range k {
			diffs[m].Sub(&target, &xs[m])
			ell.Mul(&ell, &diffs[m])
		}
		inv := fr.BatchInvert(diffs)
		for m := range k {
			w[j][m].Mul(&ell, &bw[m]).Mul(&w[j][m], &inv[m])
		}
	}
	return w
}

func indexOf(cols []Share, column int) int {
	for m := range cols {
		if cols[m].Column == column {
			return m
		}
	}
	return -1
}

// unpad strips the zero padding and the marker byte.
func unpad(b []byte) ([]byte, error) {
	end := len(bytes.TrimRight(b, "\x00")) - 1
	if end < 0 || b[end] != padMarker {
		return nil, errors.New("blob padding marker not found")
	}
	return b[:end], nil
}

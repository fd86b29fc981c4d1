package da

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/kzg"
)

// ErrInvalidShare is wrapped by every error Verify returns for a share that
// fails a check (as opposed to a malformed one).
var ErrInvalidShare = errors.New("invalid DA share")

// Verify checks a share against its row commitments: the blob id must be
// the hash of the commitments, and the combined column proof must open the
// folded rows at the column's point to the folded cells.
func Verify(p *Params, s Share) error {
	if err := checkShape(s); err != nil {
		return err
	}
	if blobIDOf(s.Commitments) != s.BlobID {
		return fmt.Errorf("%w: blob id does not match the row commitments", ErrInvalidShare)
	}
	commitments, err := decodePoints(s.Commitments)
	if err != nil {
		return fmt.Errorf("%w: row commitment %v", ErrInvalidShare, err)
	}
	var proof kzg.OpeningProof
	if err := setPoint(&proof.H, s.Proof); err != nil {
		return fmt.Errorf("%w: proof: %v", ErrInvalidShare, err)
	}
	cells, err := decodeCells(s.Data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidShare, err)
	}
	h := powers(combineChallenge(s.BlobID, s.Column, cells), len(cells))
	var combined bls12381.G1Affine
	if _, err := combined.MultiExp(commitments, h, ecc.MultiExpConfig{}); err != nil {
		return fmt.Errorf("%w: fold commitments: %v", ErrInvalidShare, err)
	}
	var t fr.Element
	for i := range cells {
		t.Mul(&cells[i], &h[i])
		proof.ClaimedValue.Add(&proof.ClaimedValue, &t)
	}
	if err := kzg.Verify(&combined, &proof, columnPoint(s.Column), p.srs.Vk); err != nil {
		return fmt.Errorf("%w: column %d: %v", ErrInvalidShare, s.Column, err)
	}
	return nil
}

// checkShape rejects shares whose sizes cannot be right.
func checkShape(s Share) error {
	switch {
	case s.Column < 0 || s.Column >= MaxColumnIndex:
		return fmt.Errorf("%w: column index %d out of range", ErrInvalidShare, s.Column)
	case len(s.Commitments) == 0:
		return fmt.Errorf("%w: no row commitments", ErrInvalidShare)
	case len(s.Data) != len(s.Commitments):
		return fmt.Errorf("%w: %d cells for %d row commitments", ErrInvalidShare, len(s.Data), len(s.Commitments))
	case len(s.Proof) != CommitmentSize:
		return fmt.Errorf("%w: proof has %d bytes, want %d", ErrInvalidShare, len(s.Proof), CommitmentSize)
	}
	return nil
}

// decodePoints parses compressed G1 points (on the curve, in the subgroup).
func decodePoints(raw [][]byte) ([]bls12381.G1Affine, error) {
	pts := make([]bls12381.G1Affine, len(raw))
	for i, b := range raw {
		if err := setPoint(&pts[i], b); err != nil {
			return nil, fmt.Errorf("%d: %w", i, err)
		}
	}
	return pts, nil
}

// setPoint parses one compressed G1 point.
func setPoint(pt *bls12381.G1Affine, b []byte) error {
	if len(b) != CommitmentSize {
		return fmt.Errorf("has %d bytes, want %d", len(b), CommitmentSize)
	}
	if _, err := pt.SetBytes(b); err != nil {
		return err
	}
	return nil
}

package da

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// The JSON shapes below follow the Nomos node API: byte strings and blob
// ids are arrays of integers, a share index in a request is a little-endian
// [lo,hi] pair, and inside a share it is a plain number.

// Bytes is a byte string whose JSON form is an array of integers 0..255;
// BlobID is a blob id whose JSON form is an array of exactly 32 integers.
// Both are the node API's types, so shares and blob ids travel the same way
// in every route.
type (
	Bytes  = nodeapi.Bytes
	BlobID = nodeapi.BlobID
)

// ShareIndex is a column index whose JSON form is [lo,hi] (little-endian u16).
type ShareIndex uint16

// MarshalJSON writes [lo,hi].
func (i ShareIndex) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("[%d,%d]", byte(i), byte(i>>8))), nil
}

// UnmarshalJSON reads [lo,hi].
func (i *ShareIndex) UnmarshalJSON(data []byte) error {
	var b Bytes
	if err := b.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("share index: %w", err)
	}
	if len(b) != 2 {
		return fmt.Errorf("share index has %d bytes, want 2", len(b))
	}
	*i = ShareIndex(uint16(b[0]) | uint16(b[1])<<8)
	return nil
}

// wireShare is the JSON form of a Share: Nomos' DaShare plus blob_id.
type wireShare struct {
	BlobID      *BlobID `json:"blob_id,omitempty"`
	Column      []Bytes `json:"column"`
	ShareIdx    *uint16 `json:"share_idx"`
	Proof       Bytes   `json:"combined_column_proof"`
	Commitments []Bytes `json:"rows_commitments"`
}

// MarshalJSON writes the share as a DaShare with its blob id.
func (s Share) MarshalJSON() ([]byte, error) {
	if s.Column < 0 || s.Column > 0xffff {
		return nil, fmt.Errorf("column index %d does not fit a share index", s.Column)
	}
	id := BlobID(s.BlobID)
	idx := uint16(s.Column)
	return json.Marshal(wireShare{
		BlobID: &id, Column: toBytesList(s.Data), ShareIdx: &idx,
		Proof: Bytes(s.Proof), Commitments: toBytesList(s.Commitments),
	})
}

// UnmarshalJSON reads a share; "blob_id" is optional (a bare DaShare, as
// posted to /da/add-share) and defaults to the hash of the commitments.
func (s *Share) UnmarshalJSON(data []byte) error {
	var w wireShare
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("DA share: %w", err)
	}
	if w.ShareIdx == nil {
		return errors.New("DA share: missing share_idx")
	}
	out := Share{
		Column: int(*w.ShareIdx), Data: fromBytesList(w.Column),
		Commitments: fromBytesList(w.Commitments), Proof: []byte(w.Proof),
	}
	if w.BlobID != nil {
		out.BlobID = *w.BlobID
	} else {
		out.BlobID = blobIDOf(out.Commitments)
	}
	*s = out
	return nil
}

// LightShare is Nomos' DaLightShare: a column and its proof, without the
// row commitments. /da/get-share and /da/sampling/shares return it.
type LightShare struct {
	ShareIdx uint16  `json:"share_idx"`
	Column   []Bytes `json:"column"`
	Proof    Bytes   `json:"combined_column_proof"`
}

// Light returns the share without its commitments.
func (s Share) Light() LightShare {
	return LightShare{ShareIdx: uint16(s.Column), Column: toBytesList(s.Data), Proof: Bytes(s.Proof)}
}

// Share rebuilds a full share from a light one and the blob's commitments.
func (l LightShare) Share(blobID [32]byte, commitments [][]byte) Share {
	return Share{
		BlobID: blobID, Column: int(l.ShareIdx), Data: fromBytesList(l.Column),
		Commitments: cloneBytes(commitments), Proof: []byte(l.Proof),
	}
}

// SharesCommitments is the body of /da/get-commitments and
// /da/get-storage-commitments (or JSON null when the blob is unknown).
type SharesCommitments struct {
	RowsCommitments []Bytes `json:"rows_commitments"`
}

// NewSharesCommitments wraps row commitments for the API.
func NewSharesCommitments(c [][]byte) SharesCommitments {
	return SharesCommitments{RowsCommitments: toBytesList(c)}
}

// Commitments returns the row commitments as byte strings.
func (c SharesCommitments) Commitments() [][]byte { return fromBytesList(c.RowsCommitments) }

// GetCommitmentsRequest is the body of POST /da/get-commitments.
type GetCommitmentsRequest struct {
	BlobID  BlobID `json:"blob_id"`
	Session uint64 `json:"session"`
}

// StorageCommitmentsRequest is the body of GET /da/get-storage-commitments.
type StorageCommitmentsRequest struct {
	BlobID BlobID `json:"blob_id"`
}

// GetShareRequest is the body of GET /da/get-share.
type GetShareRequest struct {
	BlobID   BlobID     `json:"blob_id"`
	ShareIdx ShareIndex `json:"share_idx"`
}

// GetSharesRequest is the body of GET /da/sampling/shares.
type GetSharesRequest struct {
	BlobID          BlobID       `json:"blob_id"`
	RequestedShares []ShareIndex `json:"requested_shares"`
	FilterShares    []ShareIndex `json:"filter_shares"`
	ReturnAvailable bool         `json:"return_available"`
}

// Wants reports whether column i is to be returned: it was requested, or
// the caller asked for every available share not filtered out.
func (r GetSharesRequest) Wants(i int) bool {
	for _, q := range r.RequestedShares {
		if int(q) == i {
			return true
		}
	}
	if !r.ReturnAvailable {
		return false
	}
	for _, f := range r.FilterShares {
		if int(f) == i {
			return false
		}
	}
	return true
}

// WriteLightShares writes the shares the request wants as newline-separated
// DaLightShare objects, the body of /da/sampling/shares.
func WriteLightShares(w io.Writer, req GetSharesRequest, shares []Share) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw) // Encode appends the '\n' separator
	for _, s := range shares {
		if !req.Wants(s.Column) {
			continue
		}
		if err := enc.Encode(s.Light()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadLightShares reads a /da/sampling/shares body.
func ReadLightShares(r io.Reader) ([]LightShare, error) {
	dec := json.NewDecoder(r)
	var out []LightShare
	for {
		var l LightShare
		err := dec.Decode(&l)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("light share %d: %w", len(out), err)
		}
		out = append(out, l)
	}
}

// DecodeShare decodes one share from JSON, rejecting trailing data.
func DecodeShare(data []byte) (Share, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var s Share
	if err := dec.Decode(&s); err != nil {
		return Share{}, err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return Share{}, errors.New("DA share: trailing data after the JSON object")
	}
	return s, nil
}

func toBytesList(in [][]byte) []Bytes {
	out := make([]Bytes, len(in))
	for i, b := range in {
		out[i] = Bytes(b)
	}
	return out
}

func fromBytesList(in []Bytes) [][]byte {
	if in == nil {
		return nil
	}
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = []byte(b)
	}
	return out
}

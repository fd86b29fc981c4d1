package nodeapi

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Hash is a 32-byte id (HeaderId, TxHash, NoteId, public key, ChannelId,
// MsgId). On the wire it is 64 lower-case hex digits without 0x; an optional
// 0x is accepted on input. The wire types carry ids as strings; Hash is
// their parsed form, in which txcodec and the reference node compute.
type Hash [32]byte

// String is the wire form of h.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether every byte of h is zero.
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash decodes 64 hex digits, with or without a 0x prefix.
func ParseHash(s string) (Hash, error) {
	var h Hash
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if len(s) != 64 {
		return h, fmt.Errorf("id %.80q: want 64 hex digits, got %d", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("id %.80q: %v", s, err)
	}
	return h, nil
}

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Bytes is a byte string that travels as a JSON array of integers (0..255),
// the serde default for Vec<u8>, signatures and proofs.
type Bytes []byte

// MarshalJSON encodes b as an array of integers.
func (b Bytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("[]"), nil
	}
	out := make([]byte, 0, 4*len(b)+2)
	out = append(out, '[')
	for i, v := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(v), 10)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON decodes an array of integers in 0..255.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var ints []int
	if err := json.Unmarshal(data, &ints); err != nil {
		return fmt.Errorf("byte array: %w", err)
	}
	out := make([]byte, len(ints))
	for i, v := range ints {
		if v < 0 || v > 255 {
			return fmt.Errorf("byte array: element %d = %d out of range", i, v)
		}
		out[i] = byte(v)
	}
	*b = out
	return nil
}

// BlobID is a DA blob id; on the wire a JSON array of 32 integers.
type BlobID [32]byte

// String is the lower-case hex form, for logs.
func (id BlobID) String() string { return hex.EncodeToString(id[:]) }

// MarshalJSON encodes the id as an array of integers.
func (id BlobID) MarshalJSON() ([]byte, error) { return Bytes(id[:]).MarshalJSON() }

// UnmarshalJSON decodes an array of exactly 32 integers.
func (id *BlobID) UnmarshalJSON(data []byte) error {
	var b Bytes
	if err := b.UnmarshalJSON(data); err != nil {
		return err
	}
	if len(b) != len(id) {
		return fmt.Errorf("blob id: want 32 integers, got %d", len(b))
	}
	copy(id[:], b)
	return nil
}

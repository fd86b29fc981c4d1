package txcodec

import (
	"encoding/json"
	"fmt"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// OpProof is an op's proof in the reference node's scheme: "NoProof" or
// {"Ed25519Sig":[64 ints]}, the signer's signature of the tx hash.
type OpProof struct {
	Ed25519Sig nodeapi.Bytes
}

// MarshalJSON encodes the externally tagged enum.
func (p OpProof) MarshalJSON() ([]byte, error) {
	if p.Ed25519Sig == nil {
		return []byte(`"NoProof"`), nil
	}
	return json.Marshal(map[string]nodeapi.Bytes{"Ed25519Sig": p.Ed25519Sig})
}

// UnmarshalJSON decodes "NoProof" or {"Ed25519Sig":[...]}.
func (p *OpProof) UnmarshalJSON(data []byte) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		if s != "NoProof" {
			return fmt.Errorf("op proof: unknown variant %q", s)
		}
		*p = OpProof{}
		return nil
	}
	var m map[string]nodeapi.Bytes
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("op proof: %w", err)
	}
	sig, ok := m["Ed25519Sig"]
	if !ok || len(m) != 1 {
		return fmt.Errorf("op proof: want NoProof or Ed25519Sig")
	}
	if len(sig) != 64 {
		return fmt.Errorf("op proof: Ed25519Sig wants 64 bytes, got %d", len(sig))
	}
	*p = OpProof{Ed25519Sig: sig}
	return nil
}

// ZkSignature is the ledger proof shape. The reference node carries the
// input owner's Ed25519 signature of the tx hash in PiB (64 bytes); PiA and
// PiC are zero.
type ZkSignature struct {
	PiA nodeapi.Bytes `json:"pi_a"`
	PiB nodeapi.Bytes `json:"pi_b"`
	PiC nodeapi.Bytes `json:"pi_c"`
}

// EmptyLedgerProof is the ledger proof of a tx without inputs.
func EmptyLedgerProof() ZkSignature {
	return ZkSignature{PiA: make(nodeapi.Bytes, 32), PiB: make(nodeapi.Bytes, 64), PiC: make(nodeapi.Bytes, 32)}
}

// raw encodes a proof for the wire; the proof types always marshal.
func raw(proof any) json.RawMessage {
	b, err := json.Marshal(proof)
	if err != nil {
		panic(err)
	}
	return b
}

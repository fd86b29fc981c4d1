// Package nodeclient is the engine's seam to a running node: the small set of
// node HTTP API calls the engine makes (consensus info, chain walk, mempool,
// DA, metrics, testing-API fault hooks) as one interface, the JSON wire types
// they exchange, and an HTTP implementation of it that sends every call
// through nodeapi.Client (one transport, timeout, body cap and StatusError).
//
// Every engine package talks to nodes only through Client, so engine tests run
// against in-memory nodes and the real node API can be swapped in without
// touching the lifecycle.
//
// The wire types here are deliberately lenient readers, not the reference
// node's schema (package nodeapi): ids are plain hex strings and proofs and
// signatures stay raw JSON, so the engine reads the same fields from the
// reference node and from a real Nomos node, whose proofs have other shapes.
// Types whose shape every node shares (BlobID, NetworkInfo, the testing-API
// bodies) are nodeapi's, by alias.
package nodeclient

import (
	"encoding/json"
	"fmt"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// Info is GET /cryptarchia/info: the node's tip, last immutable block (LIB),
// tip slot, tip height (genesis = 0) and mode (Bootstrapping or Online).
type Info struct {
	LIB    string `json:"lib"`
	Tip    string `json:"tip"`
	Slot   uint64 `json:"slot"`
	Height uint64 `json:"height"`
	Mode   string `json:"mode"`
}

// GenesisParent is the parent id of the genesis block: 32 zero bytes in hex.
const GenesisParent = "0000000000000000000000000000000000000000000000000000000000000000"

// Header is the part of a block header the engine reads.
type Header struct {
	Version           string          `json:"version,omitempty"`
	Parent            string          `json:"parent_block"`
	Slot              uint64          `json:"slot"`
	BlockRoot         string          `json:"block_root,omitempty"`
	ProofOfLeadership json.RawMessage `json:"proof_of_leadership,omitempty"`
}

// Block is POST /storage/block: a header, its signature and transactions.
type Block struct {
	Header       Header          `json:"header"`
	Signature    json.RawMessage `json:"signature,omitempty"`
	Transactions []Tx            `json:"transactions"`
}

// Tx is a SignedMantleTx. Proofs are kept as raw JSON so a transaction built
// elsewhere round-trips unchanged.
type Tx struct {
	MantleTx      MantleTx          `json:"mantle_tx"`
	OpsProofs     []json.RawMessage `json:"ops_proofs"`
	LedgerTxProof json.RawMessage   `json:"ledger_tx_proof,omitempty"`
}

// MantleTx is the unsigned part of a transaction.
type MantleTx struct {
	Ops               []Op     `json:"ops"`
	LedgerTx          LedgerTx `json:"ledger_tx"`
	ExecutionGasPrice uint64   `json:"execution_gas_price"`
	StorageGasPrice   uint64   `json:"storage_gas_price"`
}

// LedgerTx spends input notes into output notes.
type LedgerTx struct {
	Inputs  []string `json:"inputs"`
	Outputs []Note   `json:"outputs"`
}

// Note is a ledger output: a value owned by a public key (hex).
type Note struct {
	Value uint64 `json:"value"`
	PK    string `json:"pk"`
}

// Op is one operation of a transaction, keyed by opcode.
type Op struct {
	Opcode  int             `json:"opcode"`
	Payload json.RawMessage `json:"payload"`
}

// The opcodes the engine reads.
const (
	OpChannelInscribe = nodeapi.OpChannelInscribe
	OpChannelBlob     = nodeapi.OpChannelBlob
)

// InscriptionPayload is the payload of a ChannelInscribe op.
type InscriptionPayload struct {
	ChannelID   string `json:"channel_id"`
	Inscription []int  `json:"inscription"`
	Parent      string `json:"parent"`
	Signer      string `json:"signer"`
}

// BlobPayload is the payload of a ChannelBlob op.
type BlobPayload struct {
	Channel           string `json:"channel"`
	Session           uint64 `json:"session"`
	Blob              BlobID `json:"blob"`
	BlobSize          uint64 `json:"blob_size"`
	DAStorageGasPrice uint64 `json:"da_storage_gas_price"`
	Parent            string `json:"parent"`
	Signer            string `json:"signer"`
}

// Inscription decodes op's payload when it is a ChannelInscribe op.
func (op Op) Inscription() (InscriptionPayload, bool) {
	var p InscriptionPayload
	if op.Opcode != OpChannelInscribe || json.Unmarshal(op.Payload, &p) != nil {
		return p, false
	}
	return p, true
}

// Blob decodes op's payload when it is a ChannelBlob op.
func (op Op) Blob() (BlobPayload, bool) {
	var p BlobPayload
	if op.Opcode != OpChannelBlob || json.Unmarshal(op.Payload, &p) != nil {
		return p, false
	}
	return p, true
}

// TxStatus is one item of POST /mantle/status: "Unknown", "Pending",
// "Rejected", or InBlock with the including block.
type TxStatus struct {
	State string `json:"state"`
	Block string `json:"block,omitempty"`
}

// UnmarshalJSON accepts the node's externally tagged form.
func (s *TxStatus) UnmarshalJSON(data []byte) error {
	var name string
	if err := json.Unmarshal(data, &name); err == nil {
		*s = TxStatus{State: name}
		return nil
	}
	var tagged struct {
		InBlock *struct {
			Block string `json:"block"`
		} `json:"InBlock"`
	}
	if err := json.Unmarshal(data, &tagged); err != nil {
		return err
	}
	if tagged.InBlock == nil {
		return fmt.Errorf("unknown tx status %s", data)
	}
	*s = TxStatus{State: "InBlock", Block: tagged.InBlock.Block}
	return nil
}

// DispersalRequest is the body of POST /disperse-data (executors).
type DispersalRequest struct {
	ChannelID   string `json:"channel_id"`
	ParentMsgID string `json:"parent_msg_id"`
	Signer      string `json:"signer"`
	Data        []int  `json:"data"`
}

// Membership is POST /test/da/membership (subnet -> peer ids, and peer
// addresses), LinkFault the body of the link-fault hook and NetworkInfo GET
// /network/info. The engine reads them as the node API package defines them.
type (
	Membership  = nodeapi.Membership
	LinkFault   = nodeapi.LinkFault
	NetworkInfo = nodeapi.NetworkInfo
)

// BlobID is a DA blob id; on the wire a JSON array of 32 integers.
type BlobID = nodeapi.BlobID

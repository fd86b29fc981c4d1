// Package wire is the reference node's strict form of the blocks and
// transactions of the node API: ids are typed nodeapi.Hash values and
// proofs are the typed proofs of the txcodec scheme, so decoding a block or
// transaction validates its shape, and the node derives block ids and block
// roots from it. Everything the node sends decodes as the lenient types of
// package nodeapi, which clients use.
package wire

import (
	"encoding/json"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// Block is POST /storage/block: header, leader signature and transactions.
type Block struct {
	Header       Header        `json:"header"`
	Signature    nodeapi.Bytes `json:"signature"`
	Transactions []Tx          `json:"transactions"`
}

// BlockVersion is the header version of every block.
const BlockVersion = "Bedrock"

// Header is a block header; it carries no id (see Header.ID).
type Header struct {
	Version           string            `json:"version"`
	Parent            nodeapi.Hash      `json:"parent_block"`
	Slot              uint64            `json:"slot"`
	BlockRoot         nodeapi.Hash      `json:"block_root"`
	ProofOfLeadership ProofOfLeadership `json:"proof_of_leadership"`
}

// ProofOfLeadership proves the leader won the slot lottery.
type ProofOfLeadership struct {
	Proof               nodeapi.Bytes `json:"proof"`
	EntropyContribution nodeapi.Hash  `json:"entropy_contribution"`
	LeaderKey           nodeapi.Hash  `json:"leader_key"`
	VoucherCm           nodeapi.Hash  `json:"voucher_cm"`
}

// ProofSize is the length of ProofOfLeadership.Proof.
const ProofSize = 128

// Tx is a SignedMantleTx.
type Tx struct {
	MantleTx      MantleTx            `json:"mantle_tx"`
	OpsProofs     []txcodec.OpProof   `json:"ops_proofs"`
	LedgerTxProof txcodec.ZkSignature `json:"ledger_tx_proof"`
}

// MantleTx is the signed part of a transaction.
type MantleTx struct {
	Ops               []nodeapi.Op `json:"ops"`
	LedgerTx          LedgerTx     `json:"ledger_tx"`
	ExecutionGasPrice uint64       `json:"execution_gas_price"`
	StorageGasPrice   uint64       `json:"storage_gas_price"`
}

// LedgerTx spends input notes into output notes.
type LedgerTx struct {
	Inputs  []nodeapi.Hash `json:"inputs"`
	Outputs []Note         `json:"outputs"`
}

// Note is a ledger output: a value owned by a public key.
type Note struct {
	Value uint64       `json:"value"`
	PK    nodeapi.Hash `json:"pk"`
}

// InscriptionPayload is the payload of a ChannelInscribe op.
type InscriptionPayload struct {
	ChannelID   nodeapi.Hash  `json:"channel_id"`
	Inscription nodeapi.Bytes `json:"inscription"`
	Parent      nodeapi.Hash  `json:"parent"`
	Signer      nodeapi.Hash  `json:"signer"`
}

// BlobPayload is the payload of a ChannelBlob op.
type BlobPayload struct {
	Channel           nodeapi.Hash   `json:"channel"`
	Session           uint64         `json:"session"`
	Blob              nodeapi.BlobID `json:"blob"`
	BlobSize          uint64         `json:"blob_size"`
	DAStorageGasPrice uint64         `json:"da_storage_gas_price"`
	Parent            nodeapi.Hash   `json:"parent"`
	Signer            nodeapi.Hash   `json:"signer"`
}

// DispersalRequest is the body of POST /disperse-data (executors).
type DispersalRequest struct {
	ChannelID   nodeapi.Hash  `json:"channel_id"`
	ParentMsgID nodeapi.Hash  `json:"parent_msg_id"`
	Signer      nodeapi.Hash  `json:"signer"`
	Data        nodeapi.Bytes `json:"data"`
}

// ParseTx reads a transaction in the strict form, as the node reads one
// submitted to its API: txcodec builds the lenient form for every client,
// and the node takes its own (genesis, blob transactions) the same way.
func ParseTx(tx nodeapi.Tx) (Tx, error) {
	var out Tx
	b, err := json.Marshal(tx)
	if err != nil {
		return out, err
	}
	return out, json.Unmarshal(b, &out)
}

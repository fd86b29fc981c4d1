// Package nodeapi is the wire contract of the node HTTP API (the JSON shapes
// of the Nomos node API) and the one HTTP client of it. Transactions are
// built and signed by package txcodec.
package nodeapi

import (
	"encoding/json"
	"fmt"
)

// Modes of /cryptarchia/info.
const (
	ModeBootstrapping = "Bootstrapping"
	ModeOnline        = "Online"
)

// Info is GET /cryptarchia/info: tip, last immutable block, tip slot, tip
// height (genesis = 0) and mode.
type Info struct {
	LIB    Hash   `json:"lib"`
	Tip    Hash   `json:"tip"`
	Slot   uint64 `json:"slot"`
	Height uint64 `json:"height"`
	Mode   string `json:"mode"`
}

// LibInfo is one line of GET /cryptarchia/lib-stream.
type LibInfo struct {
	Height   uint64 `json:"height"`
	HeaderID Hash   `json:"header_id"`
}

// NetworkInfo is GET /network/info. PeerID is an addition of the reference
// node so fault hooks can name peers.
type NetworkInfo struct {
	PeerID              string   `json:"peer_id,omitempty"`
	ListenAddresses     []string `json:"listen_addresses"`
	NPeers              int      `json:"n_peers"`
	NConnections        int      `json:"n_connections"`
	NPendingConnections int      `json:"n_pending_connections"`
}

// MantleMetrics is GET /mantle/metrics.
type MantleMetrics struct {
	PendingItems      uint64 `json:"pending_items"`
	LastItemTimestamp uint64 `json:"last_item_timestamp"`
}

// Block is POST /storage/block: header, leader signature and transactions.
type Block struct {
	Header       Header `json:"header"`
	Signature    Bytes  `json:"signature"`
	Transactions []Tx   `json:"transactions"`
}

// BlockVersion is the header version of every block.
const BlockVersion = "Bedrock"

// Header is a block header; it carries no id (see Header.ID).
type Header struct {
	Version           string            `json:"version"`
	Parent            Hash              `json:"parent_block"`
	Slot              uint64            `json:"slot"`
	BlockRoot         Hash              `json:"block_root"`
	ProofOfLeadership ProofOfLeadership `json:"proof_of_leadership"`
}

// ProofOfLeadership proves the leader won the slot lottery.
type ProofOfLeadership struct {
	Proof               Bytes `json:"proof"`
	EntropyContribution Hash  `json:"entropy_contribution"`
	LeaderKey           Hash  `json:"leader_key"`
	VoucherCm           Hash  `json:"voucher_cm"`
}

// ProofSize is the length of ProofOfLeadership.Proof.
const ProofSize = 128

// Tx is a SignedMantleTx.
type Tx struct {
	MantleTx      MantleTx    `json:"mantle_tx"`
	OpsProofs     []OpProof   `json:"ops_proofs"`
	LedgerTxProof ZkSignature `json:"ledger_tx_proof"`
}

// MantleTx is the signed part of a transaction.
type MantleTx struct {
	Ops               []Op     `json:"ops"`
	LedgerTx          LedgerTx `json:"ledger_tx"`
	ExecutionGasPrice uint64   `json:"execution_gas_price"`
	StorageGasPrice   uint64   `json:"storage_gas_price"`
}

// LedgerTx spends input notes into output notes.
type LedgerTx struct {
	Inputs  []Hash `json:"inputs"`
	Outputs []Note `json:"outputs"`
}

// Note is a ledger output: a value owned by a public key.
type Note struct {
	Value uint64 `json:"value"`
	PK    Hash   `json:"pk"`
}

// Op is one operation of a transaction, keyed by opcode.
type Op struct {
	Opcode  int             `json:"opcode"`
	Payload json.RawMessage `json:"payload"`
}

// Opcodes of the ops the reference node understands.
const (
	OpChannelInscribe = 0
	OpChannelBlob     = 1
)

// InscriptionPayload is the payload of a ChannelInscribe op.
type InscriptionPayload struct {
	ChannelID   Hash  `json:"channel_id"`
	Inscription Bytes `json:"inscription"`
	Parent      Hash  `json:"parent"`
	Signer      Hash  `json:"signer"`
}

// BlobPayload is the payload of a ChannelBlob op.
type BlobPayload struct {
	Channel           Hash   `json:"channel"`
	Session           uint64 `json:"session"`
	Blob              BlobID `json:"blob"`
	BlobSize          uint64 `json:"blob_size"`
	DAStorageGasPrice uint64 `json:"da_storage_gas_price"`
	Parent            Hash   `json:"parent"`
	Signer            Hash   `json:"signer"`
}

// OpProof is "NoProof" or {"Ed25519Sig":[64 ints]}.
type OpProof struct {
	Ed25519Sig Bytes
}

// MarshalJSON encodes the externally tagged enum.
func (p OpProof) MarshalJSON() ([]byte, error) {
	if p.Ed25519Sig == nil {
		return []byte(`"NoProof"`), nil
	}
	return json.Marshal(map[string]Bytes{"Ed25519Sig": p.Ed25519Sig})
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
	var m map[string]Bytes
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
	PiA Bytes `json:"pi_a"`
	PiB Bytes `json:"pi_b"`
	PiC Bytes `json:"pi_c"`
}

// TxState names a transaction status.
type TxState string

// Transaction states of POST /mantle/status.
const (
	TxUnknown  TxState = "Unknown"
	TxPending  TxState = "Pending"
	TxRejected TxState = "Rejected"
	TxInBlock  TxState = "InBlock"
)

// TxStatus is one item of POST /mantle/status.
type TxStatus struct {
	State TxState
	Block Hash // set when State is TxInBlock
}

// MarshalJSON encodes "Pending" or {"InBlock":{"block":"<hex>"}}.
func (s TxStatus) MarshalJSON() ([]byte, error) {
	if s.State == TxInBlock {
		return json.Marshal(map[string]map[string]Hash{"InBlock": {"block": s.Block}})
	}
	return json.Marshal(string(s.State))
}

// UnmarshalJSON decodes the externally tagged form.
func (s *TxStatus) UnmarshalJSON(data []byte) error {
	var name string
	if json.Unmarshal(data, &name) == nil {
		*s = TxStatus{State: TxState(name)}
		return nil
	}
	var tagged struct {
		InBlock *struct {
			Block Hash `json:"block"`
		} `json:"InBlock"`
	}
	if err := json.Unmarshal(data, &tagged); err != nil || tagged.InBlock == nil {
		return fmt.Errorf("unknown tx status %.100s", data)
	}
	*s = TxStatus{State: TxInBlock, Block: tagged.InBlock.Block}
	return nil
}

// DispersalRequest is the body of POST /disperse-data (executors).
type DispersalRequest struct {
	ChannelID   Hash  `json:"channel_id"`
	ParentMsgID Hash  `json:"parent_msg_id"`
	Signer      Hash  `json:"signer"`
	Data        Bytes `json:"data"`
}

// Membership is POST /test/da/membership: subnet -> peer ids, and the
// address of each peer.
type Membership struct {
	Assignations map[string][]string `json:"assignations"`
	Addressbook  map[string]string   `json:"addressbook"`
}

// BalancerCounts are the connected DA peers of one subnet.
type BalancerCounts struct {
	Inbound  int `json:"inbound"`
	Outbound int `json:"outbound"`
}

// BalancerStats is GET /da/balancer-stats, keyed by subnet number.
type BalancerStats map[string]BalancerCounts

// LinkFault shapes a node's links to Peers (peer ids or node names): added
// delay, jitter and a loss ratio in [0,1]. Zero values heal the links.
type LinkFault struct {
	Peers    []string `json:"peers"`
	DelayMS  int64    `json:"delay_ms"`
	JitterMS int64    `json:"jitter_ms"`
	Loss     float64  `json:"loss"`
}

// ClockOffset is the body of the clock-offset hook.
type ClockOffset struct {
	OffsetMS int64 `json:"offset_ms"`
}

// Faults is the read-back of the testing-API fault hooks.
type Faults struct {
	Blocked       []string    `json:"blocked"`
	Links         []LinkFault `json:"links"`
	ClockOffsetMS int64       `json:"clock_offset_ms"`
	Bugs          []string    `json:"bugs,omitempty"` // the switched-on Bugs, sorted
}

// Bugs maps the names of the reference node's test-only fault-injection
// switches to their state (the body of POST and GET /test/bugs). They make
// a node break the protocol on purpose, so tests can prove that checkers
// fail; a real node has none.
type Bugs map[string]bool

// Names of the reference node's Bugs.
const (
	// BugStopProposing: the node never proposes a block; it keeps following
	// the chain.
	BugStopProposing = "stop_proposing"
	// BugStopApplying: the node applies no block (received or its own) and
	// proposes none: tip, height and LIB freeze while its API answers.
	BugStopApplying = "stop_applying"
	// BugRevertFinalized: fork choice ignores the k-deep rule and follows
	// the longest chain at any depth; the LIB moves back when it switches.
	BugRevertFinalized = "revert_finalized"
	// BugDropTransactions: submitted and gossiped transactions are accepted
	// as usual, then discarded: neither gossiped nor included.
	BugDropTransactions = "drop_transactions"
	// BugDropDAShares: an executor's dispersal answers as usual but delivers
	// no share and withholds the ChannelBlob tx: the blob never becomes
	// available nor included.
	BugDropDAShares = "drop_da_shares"
)

// BugNames lists every Bugs name, sorted (a new slice on every call).
func BugNames() []string {
	return []string{BugDropDAShares, BugDropTransactions, BugRevertFinalized, BugStopApplying, BugStopProposing}
}

// Testing-API paths of the fault hooks.
const (
	PathBlockPeers   = "/test/network/block-peers"
	PathUnblockPeers = "/test/network/unblock-peers"
	PathLinkFault    = "/test/network/link-fault"
	PathClockOffset  = "/test/clock/offset"
	PathFaults       = "/test/faults"
	PathBugs         = "/test/bugs"
)

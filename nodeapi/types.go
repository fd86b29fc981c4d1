// Package nodeapi is the wire contract of the node HTTP API (the JSON shapes
// of the Nomos node API) and the one HTTP client of it. Transactions are
// built and signed by package txcodec.
//
// The types read every node alike: ids are hex strings and proofs and
// signatures stay raw JSON, since a real Nomos node's proofs have other
// shapes than the reference node's. The reference node decodes blocks and
// transactions in its own strict form (package simnode/wire), which
// encodes to the same JSON.
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
	LIB    string `json:"lib"`
	Tip    string `json:"tip"`
	Slot   uint64 `json:"slot"`
	Height uint64 `json:"height"`
	Mode   string `json:"mode"`
}

// LibInfo is one line of GET /cryptarchia/lib-stream.
type LibInfo struct {
	Height   uint64 `json:"height"`
	HeaderID string `json:"header_id"`
}

// GenesisParent is the parent id of the genesis block: 32 zero bytes in hex.
const GenesisParent = "0000000000000000000000000000000000000000000000000000000000000000"

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
	Header       Header          `json:"header"`
	Signature    json.RawMessage `json:"signature,omitempty"`
	Transactions []Tx            `json:"transactions"`
}

// Header is a block header. It carries no id: the node derives it.
type Header struct {
	Version           string          `json:"version,omitempty"`
	Parent            string          `json:"parent_block"`
	Slot              uint64          `json:"slot"`
	BlockRoot         string          `json:"block_root,omitempty"`
	ProofOfLeadership json.RawMessage `json:"proof_of_leadership,omitempty"`
}

// Tx is a SignedMantleTx. Proofs stay raw JSON: their shape depends on the
// node's proof system, and a transaction read or built elsewhere
// round-trips unchanged.
type Tx struct {
	MantleTx      MantleTx          `json:"mantle_tx"`
	OpsProofs     []json.RawMessage `json:"ops_proofs"`
	LedgerTxProof json.RawMessage   `json:"ledger_tx_proof,omitempty"`
}

// MantleTx is the signed part of a transaction.
type MantleTx struct {
	Ops               []Op     `json:"ops"`
	LedgerTx          LedgerTx `json:"ledger_tx"`
	ExecutionGasPrice uint64   `json:"execution_gas_price"`
	StorageGasPrice   uint64   `json:"storage_gas_price"`
}

// LedgerTx spends input notes (by id) into output notes.
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

// Opcodes of the ops the reference node understands.
const (
	OpChannelInscribe = 0
	OpChannelBlob     = 1
)

// InscriptionPayload is the payload of a ChannelInscribe op.
type InscriptionPayload struct {
	ChannelID   string `json:"channel_id"`
	Inscription Bytes  `json:"inscription"`
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
	Block string // the including block's id when State is TxInBlock
}

// MarshalJSON encodes "Pending" or {"InBlock":{"block":"<hex>"}}.
func (s TxStatus) MarshalJSON() ([]byte, error) {
	if s.State == TxInBlock {
		return json.Marshal(map[string]map[string]string{"InBlock": {"block": s.Block}})
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
			Block string `json:"block"`
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
	ChannelID   string `json:"channel_id"`
	ParentMsgID string `json:"parent_msg_id"`
	Signer      string `json:"signer"`
	Data        Bytes  `json:"data"`
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

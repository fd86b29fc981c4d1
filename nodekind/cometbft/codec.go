package cometbft

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// OpRaw is the opcode under which the engine's transactions carry a
// CometBFT transaction's bytes: CometBFT transactions are opaque to
// consensus, so the kind keeps them whole.
const OpRaw = 0xc0

// walletPrefix starts the key of a workload's kvstore write.
const walletPrefix = "w"

type rawPayload struct {
	Tx []byte `json:"tx"`
}

// WrapTx is the engine's form of CometBFT transaction raw. A kvstore write
// to a wallet's key ("w<public key hex>=<value>") also shows as a ledger
// output of value to that key, so the inclusion check counts it like a
// transfer.
func WrapTx(raw []byte) nodeapi.Tx {
	payload, _ := json.Marshal(rawPayload{Tx: raw})
	tx := nodeapi.Tx{MantleTx: nodeapi.MantleTx{Ops: []nodeapi.Op{{Opcode: OpRaw, Payload: payload}}}, OpsProofs: []json.RawMessage{}}
	if k, v, ok := bytes.Cut(raw, []byte("=")); ok && bytes.HasPrefix(k, []byte(walletPrefix)) {
		if value, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			tx.MantleTx.LedgerTx.Outputs = []nodeapi.Note{{PK: string(k[len(walletPrefix):]), Value: value}}
		}
	}
	return tx
}

// RawTx is the CometBFT transaction tx carries, if it is one.
func RawTx(tx nodeapi.Tx) ([]byte, bool) {
	ops := tx.MantleTx.Ops
	if len(ops) != 1 || ops[0].Opcode != OpRaw {
		return nil, false
	}
	var p rawPayload
	if json.Unmarshal(ops[0].Payload, &p) != nil || len(p.Tx) == 0 {
		return nil, false
	}
	return p.Tx, true
}

// TxHash is CometBFT's transaction hash: SHA-256 of its bytes, in hex.
func TxHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// codec builds the workloads' transactions as kvstore writes: wallet i's
// "transfer" writes its funds under its public key, so each is unique and
// the blocks show which wallet it came from.
type codec struct {
	seed  uint64
	count int
	funds uint64
}

var (
	_ nodeclient.Codec    = codec{}
	_ nodeclient.TxHasher = codec{}
)

func newCodec(p *plan.Plan) codec {
	return codec{seed: uint64(p.Seed), count: p.Wallets.Count, funds: p.Wallets.Funds}
}

// Transfer implements nodeclient.Codec.
func (c codec) Transfer(i int) (nodeapi.Tx, error) {
	if i < 0 || i >= c.count {
		return nodeapi.Tx{}, fmt.Errorf("wallet %d does not exist (%d wallets)", i, c.count)
	}
	pk := txcodec.PublicKey(txcodec.WalletKey(c.seed, i)).String()
	return WrapTx(fmt.Appendf(nil, "%s%s=%d", walletPrefix, pk, c.funds)), nil
}

// Inscription implements nodeclient.Codec: there are no channels.
func (codec) Inscription(string, string, []byte) (nodeapi.Tx, error) { return nodeapi.Tx{}, ErrNoDA }

// MsgID implements nodeclient.Codec: there are no channels.
func (codec) MsgID(nodeapi.Op) (string, error) { return "", ErrNoDA }

// Signer implements nodeclient.Codec: there are no channels.
func (codec) Signer() string { return "" }

// TxHash implements nodeclient.TxHasher.
func (codec) TxHash(tx nodeapi.Tx) (string, error) {
	raw, ok := RawTx(tx)
	if !ok {
		return "", fmt.Errorf("not a CometBFT transaction")
	}
	return TxHash(raw), nil
}

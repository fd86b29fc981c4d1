package reference

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	"github.com/nomosrun/nomosrun/engine/nodeclient"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

// NodeAPICodec builds transactions the way the node API package signs them
// (the reference node's scheme): wallet i's key is txcodec.WalletKey(seed,
// i) with the plan's seed, as the node config generator funds them, and its
// genesis notes are read from the genesis block.
func NodeAPICodec(p *plan.Plan, genesis *nodeapi.Block) (nodeclient.Codec, error) {
	seed := uint64(p.Seed)
	c := &apiCodec{
		keys:    make([]ed25519.PrivateKey, p.Wallets.Count),
		notes:   make([][]txcodec.NoteRef, p.Wallets.Count),
		channel: txcodec.DeriveKey(seed, "workload", "channels"),
	}
	owned := txcodec.NotesByOwner(genesis)
	for i := range c.keys {
		c.keys[i] = txcodec.WalletKey(seed, i)
		c.notes[i] = owned[txcodec.PublicKey(c.keys[i]).String()]
		if len(c.notes[i]) == 0 {
			return nil, fmt.Errorf("wallet %d owns no note in the genesis block (were the node configs generated with seed %d and %d wallets?)",
				i, p.Seed, p.Wallets.Count)
		}
	}
	return c, nil
}

type apiCodec struct {
	keys    []ed25519.PrivateKey
	notes   [][]txcodec.NoteRef
	channel ed25519.PrivateKey
}

// Transfer implements Codec: all of the wallet's genesis funds back to itself.
func (c *apiCodec) Transfer(i int) (nodeapi.Tx, error) {
	if i < 0 || i >= len(c.keys) {
		return nodeapi.Tx{}, fmt.Errorf("wallet %d does not exist (%d wallets)", i, len(c.keys))
	}
	var sum uint64
	for _, n := range c.notes[i] {
		sum += n.Note.Value
	}
	return txcodec.Transfer(c.keys[i], c.notes[i], txcodec.PublicKey(c.keys[i]), sum)
}

// Inscription implements Codec.
func (c *apiCodec) Inscription(channel, parent string, data []byte) (nodeapi.Tx, error) {
	ch, err := nodeapi.ParseHash(channel)
	if err != nil {
		return nodeapi.Tx{}, fmt.Errorf("channel id: %w", err)
	}
	par, err := nodeapi.ParseHash(parent)
	if err != nil {
		return nodeapi.Tx{}, fmt.Errorf("parent message id: %w", err)
	}
	return txcodec.Inscribe(c.channel, ch, par, data), nil
}

// MsgID implements Codec.
func (c *apiCodec) MsgID(op nodeapi.Op) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, op.Payload); err != nil {
		return "", fmt.Errorf("op payload: %w", err)
	}
	return txcodec.MsgID(nodeapi.Op{Opcode: op.Opcode, Payload: buf.Bytes()}).String(), nil
}

// Signer implements Codec.
func (c *apiCodec) Signer() string { return txcodec.PublicKey(c.channel).String() }

var _ nodeclient.TxHasher = (*apiCodec)(nil)

// TxHash implements TxHasher: the reference node's transaction hash.
func (c *apiCodec) TxHash(tx nodeapi.Tx) (string, error) { return txcodec.TxHash(&tx).String(), nil }

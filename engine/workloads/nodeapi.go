package workloads

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
func NodeAPICodec(p *plan.Plan, genesis *nodeclient.Block) (Codec, error) {
	var gb nodeapi.Block
	if err := convert(genesis, &gb); err != nil {
		return nil, fmt.Errorf("genesis block: %w", err)
	}
	seed := uint64(p.Seed)
	c := &apiCodec{
		keys:    make([]ed25519.PrivateKey, p.Wallets.Count),
		notes:   make([][]txcodec.NoteRef, p.Wallets.Count),
		channel: txcodec.DeriveKey(seed, "workload", "channels"),
	}
	owned := txcodec.NotesByOwner(&gb)
	for i := range c.keys {
		c.keys[i] = txcodec.WalletKey(seed, i)
		c.notes[i] = owned[txcodec.PublicKey(c.keys[i])]
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

// convert re-encodes a value between the engine's wire types and the node
// API package's; both follow the node's JSON encoding.
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

// Transfer implements Codec: all of the wallet's genesis funds back to itself.
func (c *apiCodec) Transfer(i int) (nodeclient.Tx, error) {
	if i < 0 || i >= len(c.keys) {
		return nodeclient.Tx{}, fmt.Errorf("wallet %d does not exist (%d wallets)", i, len(c.keys))
	}
	var sum uint64
	for _, n := range c.notes[i] {
		sum += n.Note.Value
	}
	tx, err := txcodec.Transfer(c.keys[i], c.notes[i], txcodec.PublicKey(c.keys[i]), sum)
	if err != nil {
		return nodeclient.Tx{}, err
	}
	var out nodeclient.Tx
	return out, convert(tx, &out)
}

// Inscription implements Codec.
func (c *apiCodec) Inscription(channel, parent string, data []byte) (nodeclient.Tx, error) {
	ch, err := nodeapi.ParseHash(channel)
	if err != nil {
		return nodeclient.Tx{}, fmt.Errorf("channel id: %w", err)
	}
	par, err := nodeapi.ParseHash(parent)
	if err != nil {
		return nodeclient.Tx{}, fmt.Errorf("parent message id: %w", err)
	}
	var out nodeclient.Tx
	return out, convert(txcodec.Inscribe(c.channel, ch, par, data), &out)
}

// MsgID implements Codec.
func (c *apiCodec) MsgID(op nodeclient.Op) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, op.Payload); err != nil {
		return "", fmt.Errorf("op payload: %w", err)
	}
	return nodeapi.MsgID(nodeapi.Op{Opcode: op.Opcode, Payload: buf.Bytes()}).String(), nil
}

// Signer implements Codec.
func (c *apiCodec) Signer() string { return txcodec.PublicKey(c.channel).String() }

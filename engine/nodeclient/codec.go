package nodeclient

import "github.com/nomosrun/nomosrun/nodeapi"

// Codec builds the transactions workloads and hooks submit. How a
// transaction is built, signed and named belongs to the node kind, so each
// kind brings its codec; the engine only moves the results around.
type Codec interface {
	// Transfer is a signed self-transfer spending wallet i's genesis note.
	Transfer(wallet int) (nodeapi.Tx, error)
	// Inscription is a signed ChannelInscribe transaction on channel
	// (64-hex id) chained after parent (a message id, zeros for the first).
	Inscription(channel, parent string, data []byte) (nodeapi.Tx, error)
	// MsgID is the message id of a channel op (inscription or blob).
	MsgID(op nodeapi.Op) (string, error)
	// Signer is the public key (hex) that signs channel messages.
	Signer() string
}

// TxHasher is a Codec that names transactions: the hash a node reports
// for one (in its transaction status and in blocks).
type TxHasher interface {
	TxHash(tx nodeapi.Tx) (string, error)
}

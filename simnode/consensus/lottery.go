// Package consensus is Cryptarchia for the reference node: slot time, the
// private stake-weighted leader lottery, and the block tree with
// longest-chain fork choice, the k-deep rule and the last immutable block.
package consensus

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
)

// WinProbability is φ(α) = 1-(1-f)^(stake/total), the chance that a leader
// holding stake out of total wins a slot.
func WinProbability(f float64, stake, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 1 - math.Pow(1-f, float64(stake)/float64(total))
}

// lotteryMessage is what a leader signs for a slot.
func lotteryMessage(nonce nodeapi.Hash, slot uint64) []byte {
	msg := make([]byte, 0, 16+32+8)
	msg = append(msg, "NOMOS_LOTTERY_V1"...)
	msg = append(msg, nonce[:]...)
	return binary.LittleEndian.AppendUint64(msg, slot)
}

// Ticket maps a lottery signature to [0,1). Ed25519 signatures are
// deterministic, so the ticket is a keyed hash only the key holder can
// compute and anyone can verify with the public key: the VRF property the
// lottery needs (Nomos uses a Poseidon2 ticket inside a ZK proof).
func Ticket(sig []byte) float64 {
	h := sha256.Sum256(sig)
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// Draw runs the lottery of key for slot: the proof and whether it wins.
func Draw(key ed25519.PrivateKey, nonce nodeapi.Hash, slot uint64, p float64) (proof []byte, won bool) {
	sig := ed25519.Sign(key, lotteryMessage(nonce, slot))
	return sig, Ticket(sig) < p
}

// Errors of VerifyLeader.
var (
	ErrBadProof = errors.New("bad leader proof")
	ErrLostSlot = errors.New("leader proof does not win the slot")
)

// VerifyLeader checks a proof of leadership: the signature by pk over the
// slot (skipped in dev mode) and the ticket below the win probability.
func VerifyLeader(pk nodeapi.Hash, nonce nodeapi.Hash, slot uint64, proof []byte, p float64, devMode bool) error {
	if len(proof) < ed25519.SignatureSize {
		return ErrBadProof
	}
	sig := proof[:ed25519.SignatureSize]
	if !devMode && !ed25519.Verify(pk[:], lotteryMessage(nonce, slot), sig) {
		return ErrBadProof
	}
	if Ticket(sig) >= p {
		return ErrLostSlot
	}
	return nil
}

// Clock gives slots: slot = floor((now + offset - start) / duration), 0
// before the chain start.
type Clock struct {
	Start    time.Time
	Duration time.Duration
	Now      func() time.Time // wall clock plus the node's offset
}

// Slot is the current slot.
func (c Clock) Slot() uint64 { return c.SlotAt(c.Now()) }

// SlotAt is the slot of t.
func (c Clock) SlotAt(t time.Time) uint64 {
	d := t.Sub(c.Start)
	if d < 0 {
		return 0
	}
	return uint64(d / c.Duration)
}

// SlotStart is the start time of slot s on this clock.
func (c Clock) SlotStart(s uint64) time.Time {
	return c.Start.Add(time.Duration(s) * c.Duration)
}

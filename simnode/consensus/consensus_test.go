package consensus

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/nodeapi"
	"github.com/nomosrun/nomosrun/nodeapi/txcodec"
)

func key(i int) ed25519.PrivateKey {
	s := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return ed25519.NewKeyFromSeed(s[:])
}

// TestLeaderRateMatchesF draws the lottery of 4 equal leaders over many
// slots. The inputs are fixed, so the count is deterministic; the tolerance
// (about 5 standard deviations) is there to show the rate is right, not to
// absorb randomness.
func TestLeaderRateMatchesF(t *testing.T) {
	const slots, leaders, f = 4000, 4, 0.9
	nonce := nodeapi.Hash{1, 2, 3}
	keys := make([]ed25519.PrivateKey, leaders)
	for i := range keys {
		keys[i] = key(i)
	}
	p := WinProbability(f, 1, leaders)
	nonEmpty, wins := 0, 0
	for s := uint64(1); s <= slots; s++ {
		any := false
		for _, k := range keys {
			if _, won := Draw(k, nonce, s, p); won {
				wins++
				any = true
			}
		}
		if any {
			nonEmpty++
		}
	}
	rate := float64(nonEmpty) / slots
	sd := math.Sqrt(f * (1 - f) / slots)
	if math.Abs(rate-f) > 5*sd {
		t.Errorf("non-empty slot rate %.4f, want %.2f ± %.4f", rate, f, 5*sd)
	}
	perLeader := float64(wins) / (slots * leaders)
	if math.Abs(perLeader-p) > 0.03 {
		t.Errorf("per-leader win rate %.4f, want %.4f", perLeader, p)
	}
}

func TestWinProbability(t *testing.T) {
	if got := WinProbability(0.9, 10, 10); math.Abs(got-0.9) > 1e-12 {
		t.Errorf("whole stake wins with %v, want f", got)
	}
	if got := WinProbability(0.9, 0, 10); got != 0 {
		t.Errorf("no stake wins with %v", got)
	}
	if got := WinProbability(0.5, 1, 0); got != 0 {
		t.Errorf("zero total gives %v", got)
	}
}

func TestVerifyLeader(t *testing.T) {
	k := key(1)
	pk := txcodec.PublicKey(k)
	nonce := nodeapi.Hash{9}
	var slot uint64
	var proof []byte
	for slot = 1; ; slot++ {
		var won bool
		if proof, won = Draw(k, nonce, slot, 0.5); won {
			break
		}
	}
	if err := VerifyLeader(pk, nonce, slot, proof, 0.5, false); err != nil {
		t.Fatalf("winning proof rejected: %v", err)
	}
	if err := VerifyLeader(pk, nonce, slot+1, proof, 0.5, false); err != ErrBadProof {
		t.Errorf("proof replayed in another slot: %v", err)
	}
	other := txcodec.PublicKey(key(2))
	if err := VerifyLeader(other, nonce, slot, proof, 0.5, false); err != ErrBadProof {
		t.Errorf("proof accepted for another key: %v", err)
	}
	if err := VerifyLeader(other, nonce, slot, proof, 0.5, true); err != nil {
		t.Errorf("dev mode still checks the signature: %v", err)
	}
	if err := VerifyLeader(pk, nonce, slot, proof, 0, false); err != ErrLostSlot {
		t.Errorf("proof above the threshold: %v", err)
	}
}

func TestClock(t *testing.T) {
	start := time.Unix(1000, 0)
	c := Clock{Start: start, Duration: 100 * time.Millisecond}
	for _, tc := range []struct {
		at   time.Time
		slot uint64
	}{{start.Add(-time.Second), 0}, {start, 0}, {start.Add(99 * time.Millisecond), 0}, {start.Add(100 * time.Millisecond), 1}, {start.Add(time.Second + 50*time.Millisecond), 10}} {
		if got := c.SlotAt(tc.at); got != tc.slot {
			t.Errorf("SlotAt(%v) = %d, want %d", tc.at.Sub(start), got, tc.slot)
		}
	}
	if c.SlotStart(10) != start.Add(time.Second) {
		t.Error("SlotStart(10)")
	}
}

// id is a test block id.
func id(s string) nodeapi.Hash { return sha256.Sum256([]byte(s)) }

// grow adds a chain of n blocks named prefix0.. on parent from slot.
func grow(t *testing.T, tr *Tree, parent nodeapi.Hash, prefix string, slot uint64, n int) nodeapi.Hash {
	t.Helper()
	for i := range n {
		b := id(prefix + string(rune('a'+i)))
		if _, err := tr.Add(Branch{ID: b, Parent: parent, Slot: slot + uint64(i)}); err != nil {
			t.Fatalf("add %s%d: %v", prefix, i, err)
		}
		parent = b
	}
	return parent
}

func TestForkChoiceLongestChainAndLIB(t *testing.T) {
	g := id("genesis")
	tr := NewTree(g, 3)
	a := grow(t, tr, g, "a", 1, 5)
	if tr.Tip().ID != a || tr.Tip().Height != 5 {
		t.Fatalf("tip %v", tr.Tip())
	}
	if tr.LIB().ID != g {
		t.Error("LIB moved while Bootstrapping")
	}
	tr.SetOnline()
	if tr.LIB().Height != 2 {
		t.Errorf("LIB height %d, want tip-k = 2", tr.LIB().Height)
	}
	// An equal-length fork from height 3 does not win; a longer one does.
	a3, _ := tr.Ancestor(a, 3)
	f := grow(t, tr, a3.ID, "f", 10, 2)
	if tr.Tip().ID != a {
		t.Error("tie switched the chain")
	}
	f = grow(t, tr, f, "g", 20, 1)
	if tr.Tip().ID != f || tr.Reorgs() != 1 {
		t.Errorf("longer fork not chosen: tip %v reorgs %d", tr.Tip(), tr.Reorgs())
	}
	// A fork from below the LIB is refused.
	lib := tr.LIB()
	below, _ := tr.Ancestor(lib.ID, lib.Height-1)
	if _, err := tr.Add(Branch{ID: id("x"), Parent: below.ID, Slot: 50}); err != ErrBelowLIB {
		t.Errorf("fork below LIB: %v", err)
	}
	if _, err := tr.Add(Branch{ID: id("y"), Parent: id("nope"), Slot: 50}); err != ErrUnknownParent {
		t.Errorf("unknown parent: %v", err)
	}
	if _, err := tr.Add(Branch{ID: id("z"), Parent: f, Slot: 20}); err != ErrBadSlot {
		t.Errorf("slot not after parent: %v", err)
	}
	hs, err := tr.Headers(tr.Tip().ID, nodeapi.Hash{}, 512)
	if err != nil || hs[0] != tr.Tip().ID || hs[len(hs)-1] != tr.LIB().ID {
		t.Errorf("headers %v %v", hs, err)
	}
}

func TestForkChoiceKDeepRule(t *testing.T) {
	g := id("genesis")
	tr := NewTree(g, 2)
	tr.SetOnline()
	// The fork leaves genesis before the local chain's LIB: refused.
	grow(t, tr, g, "a", 1, 4)
	if _, err := tr.Add(Branch{ID: id("deep"), Parent: g, Slot: 100}); err != ErrBelowLIB {
		t.Errorf("deep fork: %v", err)
	}
	// Bootstrapping follows a longer chain at any depth above the LIB.
	tb := NewTree(g, 2)
	grow(t, tb, g, "a", 1, 4)
	b := grow(t, tb, g, "b", 10, 5)
	if tb.Tip().ID != b {
		t.Error("bootstrapping node kept the shorter chain")
	}
}

func TestRebootstrapFollowsLongerChainBelowLIB(t *testing.T) {
	g := id("genesis")
	tr := NewTree(g, 2)
	tr.SetOnline()
	a := grow(t, tr, g, "a", 1, 3) // a fork of its own from genesis
	a1, _ := tr.Ancestor(a, 1)
	if tr.LIB().Height != 1 || !tr.BelowLIB(g) || tr.BelowLIB(a1.ID) {
		t.Fatalf("LIB %v: genesis must be below it, a1 not", tr.LIB())
	}
	// The majority chain also leaves genesis; Online, it cannot be adopted.
	if _, err := tr.Add(Branch{ID: id("b0"), Parent: g, Slot: 10}); err != ErrBelowLIB {
		t.Fatalf("deep fork while Online: %v", err)
	}
	tr.Rebootstrap(g)
	if tr.Online() || tr.LIB().ID != g {
		t.Fatalf("after Rebootstrap: online %v, LIB %v, want Bootstrapping at genesis", tr.Online(), tr.LIB())
	}
	b := grow(t, tr, g, "b", 10, 5)
	if tr.Tip().ID != b {
		t.Fatalf("tip %v, want the longer chain", tr.Tip())
	}
	tr.SetOnline()
	if tr.LIB().Height != 3 || !tr.OnMain(tr.LIB().ID) {
		t.Errorf("LIB %v after Online again, want height 3 on the new chain", tr.LIB())
	}
	// Rebootstrap never moves the LIB forward.
	lib := tr.LIB()
	tr.Rebootstrap(tr.Tip().ID)
	if tr.LIB().ID != lib.ID {
		t.Errorf("Rebootstrap from the tip moved the LIB to %v", tr.LIB())
	}
}

func TestRestoredLIBBootstrapsBelowIt(t *testing.T) {
	g := id("genesis")
	// A node that finalized a fork of its own: LIB at height 2 of "a".
	tr := NewTree(g, 2)
	a := grow(t, tr, g, "a", 1, 4)
	a2, _ := tr.Ancestor(a, 2)
	// Restarted: the stored blocks are replayed while Bootstrapping and the
	// stored LIB restored.
	tr.RestoreLIB(a2.ID)
	if tr.Online() || tr.LIB().ID != a2.ID {
		t.Fatalf("restored: online %v LIB %v", tr.Online(), tr.LIB())
	}
	// The majority chain forks at genesis, below the restored LIB: while
	// Bootstrapping the node follows it and the LIB moves back to the fork
	// point.
	b := grow(t, tr, g, "b", 10, 4)
	if tr.Tip().ID != a || tr.LIB().ID != a2.ID {
		t.Fatalf("equal length switched: tip %v LIB %v", tr.Tip(), tr.LIB())
	}
	b = grow(t, tr, b, "c", 20, 1)
	if tr.Tip().ID != b || tr.LIB().ID != g {
		t.Fatalf("tip %v LIB %v, want the longer chain and the LIB at the fork point", tr.Tip(), tr.LIB())
	}
	tr.SetOnline()
	if tr.LIB().Height != 3 || !tr.OnMain(tr.LIB().ID) {
		t.Errorf("LIB %v once Online, want height 3 on the new chain", tr.LIB())
	}
	// Online again: a deeper fork is refused.
	if _, err := tr.Add(Branch{ID: id("late"), Parent: g, Slot: 100}); err != ErrBelowLIB {
		t.Errorf("fork below the LIB while Online: %v", err)
	}
}

func TestRevertFinalizedIgnoresTheKDeepRule(t *testing.T) {
	g := id("genesis")
	tr := NewTree(g, 2)
	tr.SetOnline()
	grow(t, tr, g, "a", 1, 4)
	oldLIB := tr.LIB()
	if oldLIB.Height != 2 || !tr.Refuses(g) {
		t.Fatalf("LIB %v", oldLIB)
	}
	tr.SetRevertFinalized(true)
	if tr.Refuses(g) {
		t.Fatal("a fork below the LIB refused with revert_finalized on")
	}
	b := grow(t, tr, g, "b", 10, 5)
	if tr.Tip().ID != b {
		t.Fatalf("tip %v, want the longer fork from genesis", tr.Tip())
	}
	lib := tr.LIB()
	if anc, ok := tr.Ancestor(lib.ID, oldLIB.Height); ok && anc.ID == oldLIB.ID {
		t.Errorf("LIB %v still descends from the old LIB %v", lib, oldLIB)
	}
	if lib.Height != 3 || !tr.OnMain(lib.ID) {
		t.Errorf("LIB %v, want tip-k on the new chain", lib)
	}
	tr.SetRevertFinalized(false)
	if _, err := tr.Add(Branch{ID: id("x"), Parent: g, Slot: 100}); err != ErrBelowLIB {
		t.Errorf("fork below the LIB after switching off: %v", err)
	}
}

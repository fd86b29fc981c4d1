package kernelnet

import (
	"context"
	"github.com/google/nftables"
	"strings"
	"testing"
)

// ruleCount counts the rules of fault id in a node's namespace.
func ruleCount(t *testing.T, nn *nodeNet, id string) int {
	t.Helper()
	rs, err := openRuleset(nn.ns)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.conn.CloseLasting()
	count := 0
	for _, ch := range []*nftables.Chain{rs.input, rs.output} {
		rules, err := rs.conn.GetRules(rs.table, ch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if string(r.UserData) == string(tag(id)) {
				count++
			}
		}
	}
	return count
}

func TestRejoinAppliesTheFaultsAgain(t *testing.T) {
	n := newNet(t, "a", "b", "c")
	ctx := context.Background()
	if _, err := n.Cut(ctx, "p1", []string{"a"}, []string{"b", "c"}); err != nil {
		t.Fatal(err)
	}
	a := n.byName["a"]
	if got := ruleCount(t, a, "p1"); got != 4 {
		t.Fatalf("a holds %d rules of p1, want 4 (in and out, for b and c)", got)
	}
	// A namespace replaced under the node loses its rules.
	if err := a.ep.RemoveDrops(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := n.Rejoin(ctx, "a", &nsEndpoint{ns: a.ns}, a.addr); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"a": 4, "b": 2, "c": 2} {
		if got := ruleCount(t, n.byName[name], "p1"); got != want {
			t.Errorf("after rejoin %s holds %d rules of p1, want %d", name, got, want)
		}
	}
	if _, err := n.Heal(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if got := ruleCount(t, a, "p1"); got != 0 {
		t.Errorf("after heal a holds %d rules of p1", got)
	}
}

func TestAwayNodeIsLeftOutUntilItRejoins(t *testing.T) {
	n := newNet(t, "a", "b", "c")
	ctx := context.Background()
	if err := n.Leave("a"); err != nil {
		t.Fatal(err)
	}
	r, err := n.Cut(ctx, "p2", []string{"a"}, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Links != 0 || r.Away != 2 || !strings.Contains(r.String(), "2 not probed: a node was down") {
		t.Errorf("cut with a away: %v", r)
	}
	a := n.byName["a"]
	if got := ruleCount(t, a, "p2"); got != 0 {
		t.Errorf("away node a got %d rules", got)
	}
	if err := n.Rejoin(ctx, "a", &nsEndpoint{ns: a.ns}, a.addr); err != nil {
		t.Fatal(err)
	}
	if got := ruleCount(t, a, "p2"); got != 2 {
		t.Errorf("after rejoin a holds %d rules of p2, want 2", got)
	}
	if r, err := n.Heal(ctx, "p2"); err != nil || r.Links != 2 {
		t.Fatalf("heal: %v %v", r, err)
	}
}

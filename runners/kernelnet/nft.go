package kernelnet

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// tableName is the nftables table (family ip) in every node namespace.
const tableName = "nomosrun"

// IPv4 header offsets of the source and destination addresses.
const (
	offSaddr = 12
	offDaddr = 16
)

// ruleset is the table and its two chains in one node's namespace.
type ruleset struct {
	conn          *nftables.Conn
	table         *nftables.Table
	input, output *nftables.Chain
}

// openRuleset connects to nftables in ns (netns.None: this process's own)
// and makes sure the table and its input and output filter chains exist
// (adding them again is a no-op).
func openRuleset(ns netns.NsHandle) (*ruleset, error) {
	var opts []nftables.ConnOption
	if ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(ns)))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	accept := nftables.ChainPolicyAccept
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName})
	chain := func(name string, hook *nftables.ChainHook) *nftables.Chain {
		return c.AddChain(&nftables.Chain{
			Name: name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: hook, Priority: nftables.ChainPriorityFilter, Policy: &accept,
		})
	}
	rs := &ruleset{conn: c, table: t, input: chain("input", nftables.ChainHookInput), output: chain("output", nftables.ChainHookOutput)}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables: create table %s: %w", tableName, err)
	}
	return rs, nil
}

// tag is a rule's comment: the fault id, visible in `nft list ruleset`.
func tag(id string) []byte { return userdata.AppendString(nil, userdata.TypeComment, id) }

// matchAddr matches packets whose source (off = offSaddr) or destination
// (offDaddr) is addr.
func matchAddr(off uint32, addr netip.Addr) []expr.Any {
	a := addr.As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a[:]},
	}
}

// chance matches a packet with probability pct/100: a random number in
// [0, 100), converted to network order so the kernel's byte-wise compare
// orders it as a number.
func chance(pct uint32) []expr.Any {
	return []expr.Any{
		&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binaryutil.BigEndian.PutUint32(pct)},
	}
}

// drop adds a rule to chain that drops what match matches, tagged with id.
func (rs *ruleset) drop(chain *nftables.Chain, id string, match ...[]expr.Any) {
	var exprs []expr.Any
	for _, m := range match {
		exprs = append(exprs, m...)
	}
	exprs = append(exprs, &expr.Verdict{Kind: expr.VerdictDrop})
	rs.conn.AddRule(&nftables.Rule{Table: rs.table, Chain: chain, Exprs: exprs, UserData: tag(id)})
}

// removeTagged deletes every rule tagged with id from both chains.
func (rs *ruleset) removeTagged(id string) error {
	want := tag(id)
	for _, ch := range []*nftables.Chain{rs.input, rs.output} {
		rules, err := rs.conn.GetRules(rs.table, ch)
		if err != nil {
			return fmt.Errorf("nftables: list chain %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			if bytes.Equal(r.UserData, want) {
				if err := rs.conn.DelRule(r); err != nil {
					return fmt.Errorf("nftables: delete rule: %w", err)
				}
			}
		}
	}
	if err := rs.conn.Flush(); err != nil {
		return fmt.Errorf("nftables: heal %s: %w", id, err)
	}
	return nil
}

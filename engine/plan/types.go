package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Pos is a position in a scenario script: the call site of the builtin that
// recorded a step. The zero Pos means "no position" (for defaults).
type Pos struct {
	File string `json:"file,omitempty"`
	Line int32  `json:"line,omitempty"`
	Col  int32  `json:"col,omitempty"`
}

// String formats the position as file:line:col, the prefix of every message
// that points into a script.
func (p Pos) String() string {
	if p.File == "" {
		return "<unknown>"
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsZero reports whether the position is unset.
func (p Pos) IsZero() bool { return p == Pos{} }

// Duration is a time.Duration that marshals to JSON as a Go duration string
// ("2s", "1m30s") so plans stay readable and stable.
type Duration time.Duration

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON encodes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("invalid duration %s: want a string like \"30s\" or seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Role is what a node does in the cluster.
type Role string

// The node roles.
const (
	RoleValidator Role = "validator"
	RoleExecutor  Role = "executor"
)

// Network layouts of the peer-to-peer links between nodes.
const (
	NetworkStar  = "star"  // every node peers with node 0
	NetworkChain = "chain" // node i peers with node i-1
	NetworkFull  = "full"  // every pair of nodes peers
)

// Node is one node of the topology. Names are deterministic: validator-0..,
// executor-0.. with Index counting within the role.
type Node struct {
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	Index int    `json:"index"`
}

// Topology is the cluster shape and its consensus parameters.
type Topology struct {
	Validators      int      `json:"validators"`
	Executors       int      `json:"executors"`
	Network         string   `json:"network"`
	Slot            Duration `json:"slot"`
	ActiveSlotCoeff float64  `json:"active_slot_coeff"`
	SecurityParam   int      `json:"security_param"`
	// Node is the node kind (package nodekind); empty is the reference node.
	Node       string `json:"node,omitempty"`
	NodeBinary string `json:"node_binary,omitempty"`
	Image      string `json:"image,omitempty"`
	Nodes      []Node `json:"nodes"`
	Pos        Pos    `json:"pos"`
}

// Wallets seeds Count accounts with Funds each in the genesis ledger.
type Wallets struct {
	Count int    `json:"count"`
	Funds uint64 `json:"funds"`
	Pos   Pos    `json:"pos"`
}

// Span is a point or length of time, given either in wall time or in protocol
// time (blocks or slots). At most one field is set; the zero Span means "none"
// (for an `at`: the start of the drive phase; for a duration: until run end).
type Span struct {
	Wall   Duration `json:"wall,omitempty"`
	Blocks int      `json:"blocks,omitempty"`
	Slots  int      `json:"slots,omitempty"`
}

// IsZero reports whether the span is unset.
func (s Span) IsZero() bool { return s == Span{} }

// String formats the span the way a script writes it.
func (s Span) String() string {
	switch {
	case s.Blocks > 0:
		return fmt.Sprintf("blocks(%d)", s.Blocks)
	case s.Slots > 0:
		return fmt.Sprintf("slots(%d)", s.Slots)
	case s.Wall > 0:
		return strconv.Quote(s.Wall.String())
	}
	return "None"
}

// Selector is a set of target nodes as the script wrote it: exactly one of
// All (every node), Role (every node of a role), Names (those nodes) or
// Index (the node at that index of the topology order) is set; build one
// with SelectAll, SelectRole, SelectNames, SelectIndex or SelectString.
// Nodes are the node names it resolves to in topology order (unknown names
// are left out and reported by Validate).
type Selector struct {
	All   bool     `json:"all,omitempty"`
	Role  Role     `json:"role,omitempty"`
	Names []string `json:"names,omitempty"`
	Index *int     `json:"index,omitempty"`
	Nodes []string `json:"nodes"`
}

// Dials lists the nodes (by topology index) that node i dials at start in
// the topology's layout: node 0 in a star, node i-1 in a chain, every
// earlier node in a full mesh. Each pair appears once, on the later node.
func (t Topology) Dials(i int) []int {
	if i <= 0 || i >= len(t.Nodes) {
		return nil
	}
	switch t.Network {
	case NetworkChain:
		return []int{i - 1}
	case NetworkFull:
		out := make([]int, i)
		for j := range out {
			out[j] = j
		}
		return out
	}
	return []int{0}
}

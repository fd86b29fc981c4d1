package plan

import (
	"strconv"
	"strings"
)

// The words a single string selector reads as a role or as every node
// rather than as a node name.
const (
	wordAll        = "all"
	wordValidators = "validators"
	wordExecutors  = "executors"
)

// SelectAll selects every node.
func SelectAll() Selector { return Selector{All: true} }

// SelectRole selects every node of role r.
func SelectRole(r Role) Selector { return Selector{Role: r} }

// SelectNames selects the named nodes.
func SelectNames(names ...string) Selector { return Selector{Names: names} }

// SelectIndex selects the node at index i of the topology order
// (validators first, then executors).
func SelectIndex(i int) Selector { return Selector{Index: &i} }

// SelectString reads a selector written as one string: "all", "validators",
// "executors", or else a node name. (A list of strings always names nodes:
// use SelectNames.)
func SelectString(s string) Selector {
	switch s {
	case wordAll:
		return SelectAll()
	case wordValidators:
		return SelectRole(RoleValidator)
	case wordExecutors:
		return SelectRole(RoleExecutor)
	}
	return SelectNames(s)
}

// selectorWord reports whether name is one of the words SelectString reads
// as something other than a node name.
func selectorWord(name string) bool {
	return name == wordAll || name == wordValidators || name == wordExecutors
}

// variants counts how many of All, Role, Names and Index are set; a valid
// selector has exactly one.
func (s Selector) variants() int {
	n := 0
	for _, set := range []bool{s.All, s.Role != "", len(s.Names) > 0, s.Index != nil} {
		if set {
			n++
		}
	}
	return n
}

// String formats the selector for display and for expectation names: "all",
// "validators", "executors", "#N" for an index, or the names joined with
// commas.
func (s Selector) String() string {
	switch {
	case s.All:
		return wordAll
	case s.Role != "":
		return string(s.Role) + "s"
	case s.Index != nil:
		return "#" + strconv.Itoa(*s.Index)
	}
	return strings.Join(s.Names, ",")
}

// Resolve turns a selector into node names in topology order, and lists the
// parts of it that name no node of the topology.
func (t Topology) Resolve(s Selector) (nodes, unknown []string) {
	all := t.Nodes
	if all == nil {
		all = NodesOf(t.Validators, t.Executors)
	}
	var keep func(Node) bool
	switch {
	case s.All:
		keep = func(Node) bool { return true }
	case s.Role != "":
		keep = func(n Node) bool { return n.Role == s.Role }
	case s.Index != nil:
		i := *s.Index
		if i < 0 || i >= len(all) {
			return nil, []string{"index " + strconv.Itoa(i)}
		}
		return []string{all[i].Name}, nil
	default:
		want := map[string]bool{}
		for _, name := range s.Names {
			want[name] = false
		}
		keep = func(n Node) bool {
			_, ok := want[n.Name]
			if ok {
				want[n.Name] = true
			}
			return ok
		}
		defer func() {
			for _, name := range s.Names {
				if !want[name] {
					unknown = append(unknown, name)
					want[name] = true // report a repeated unknown name once
				}
			}
		}()
	}
	for _, n := range all {
		if keep(n) {
			nodes = append(nodes, n.Name)
		}
	}
	return nodes, unknown
}

func (t Topology) resolveSelector(s Selector) Selector {
	s.Nodes, _ = t.Resolve(s)
	if s.Nodes == nil {
		s.Nodes = []string{} // stable JSON: [] rather than null
	}
	return s
}

// resolveFault resolves the node selectors of f: its targets, or the
// sides of a partition.
func (t Topology) resolveFault(f Fault) Fault {
	f.Targets = t.resolveSelector(f.Targets)
	if f.Partition != nil && len(f.Partition.GroupSpecs) > 0 {
		specs := make([]Selector, len(f.Partition.GroupSpecs))
		for j, g := range f.Partition.GroupSpecs {
			specs[j] = t.resolveSelector(g)
		}
		f.Partition = &PartitionParams{GroupSpecs: specs, Groups: t.resolveGroups(specs)}
	}
	return f
}

// resolveGroups resolves the sides of a partition; a single group is cut
// off from all the other nodes, which form the second side.
func (t Topology) resolveGroups(specs []Selector) [][]string {
	groups := make([][]string, 0, len(specs)+1)
	in := map[string]bool{}
	for _, s := range specs {
		nodes, _ := t.Resolve(s)
		groups = append(groups, nodes)
		for _, n := range nodes {
			in[n] = true
		}
	}
	if len(specs) == 1 {
		var rest []string
		for _, n := range t.Nodes {
			if !in[n.Name] {
				rest = append(rest, n.Name)
			}
		}
		groups = append(groups, rest)
	}
	return groups
}

// suggest returns the known name closest to name, or "" when none is close.
// Hand-written because go.starlark.net keeps its speller internal; node names
// are short, so a plain edit distance is enough.
func suggest(name string, known []Node) string {
	best, bestD := "", len(name)/2+2
	for _, n := range known {
		if d := editDistance(name, n.Name); d < bestD {
			best, bestD = n.Name, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// IsZero reports whether the selector is unset (it then is left out of JSON).
func (s Selector) IsZero() bool { return s.variants() == 0 && len(s.Nodes) == 0 }

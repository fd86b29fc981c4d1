package plan

import (
	"strconv"
	"strings"
)

// Selector specs with a meaning of their own.
const (
	SelectAll        = "all"
	SelectValidators = "validators"
	SelectExecutors  = "executors"
)

// IndexSpec is the selector spec of the node at index i of the topology order.
func IndexSpec(i int) string { return "#" + strconv.Itoa(i) }

// ListSpec is the selector spec of a list of node names.
func ListSpec(names []string) string { return strings.Join(names, ",") }

// Resolve turns a selector spec into node names in topology order, and lists
// the parts of the spec that name no node of the topology.
func (t Topology) Resolve(spec string) (nodes, unknown []string) {
	all := t.Nodes
	if all == nil {
		all = NodesOf(t.Validators, t.Executors)
	}
	var keep func(Node) bool
	switch spec {
	case SelectAll:
		keep = func(Node) bool { return true }
	case SelectValidators:
		keep = func(n Node) bool { return n.Role == RoleValidator }
	case SelectExecutors:
		keep = func(n Node) bool { return n.Role == RoleExecutor }
	default:
		if rest, ok := strings.CutPrefix(spec, "#"); ok {
			i, err := strconv.Atoi(rest)
			if err != nil || i < 0 || i >= len(all) {
				return nil, []string{"index " + rest}
			}
			return []string{all[i].Name}, nil
		}
		want := map[string]bool{}
		for _, name := range strings.Split(spec, ",") {
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
			for _, name := range strings.Split(spec, ",") {
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
	s.Nodes, _ = t.Resolve(s.Spec)
	if s.Nodes == nil {
		s.Nodes = []string{} // stable JSON: [] rather than null
	}
	return s
}

// resolveGroups resolves the sides of a partition; a single group is cut
// off from all the other nodes, which form the second side.
func (t Topology) resolveGroups(specs []Selector) [][]string {
	groups := make([][]string, 0, len(specs)+1)
	in := map[string]bool{}
	for _, s := range specs {
		nodes, _ := t.Resolve(s.Spec)
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
func (s Selector) IsZero() bool { return s.Spec == "" && len(s.Nodes) == 0 }

package plan

import "fmt"

// CompareOp is the comparison of a metric threshold (expect_metric).
type CompareOp string

// The comparisons a metric threshold may use.
const (
	OpLess      CompareOp = "<"
	OpLessEq    CompareOp = "<="
	OpGreater   CompareOp = ">"
	OpGreaterEq CompareOp = ">="
	OpEqual     CompareOp = "=="
	OpNotEqual  CompareOp = "!="
)

// CompareOps lists every comparison, in the order messages name them.
var CompareOps = []CompareOp{OpLess, OpLessEq, OpGreater, OpGreaterEq, OpEqual, OpNotEqual}

// ParseCompareOp returns the comparison written s, or an error naming the
// comparisons there are.
func ParseCompareOp(s string) (CompareOp, error) {
	for _, op := range CompareOps {
		if string(op) == s {
			return op, nil
		}
	}
	return "", fmt.Errorf("unknown op %q; want one of <, <=, >, >=, ==, !=", s)
}

// Compare reports whether "a op b" holds; it is false for an invalid op.
func (op CompareOp) Compare(a, b float64) bool {
	switch op {
	case OpLess:
		return a < b
	case OpLessEq:
		return a <= b
	case OpGreater:
		return a > b
	case OpGreaterEq:
		return a >= b
	case OpEqual:
		return a == b
	case OpNotEqual:
		return a != b
	}
	return false
}

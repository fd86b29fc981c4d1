package kernelnet

import "math"

// falseFailure is the chance a verification may wrongly fail a correct
// loss fault, split evenly between the links probed.
const falseFailure = 1e-6

// binomialRange returns the range [lo, hi] that X ~ Binomial(n, p) falls
// outside with probability at most alpha: P(X < lo) <= alpha/2 and
// P(X > hi) <= alpha/2, computed exactly from the probability mass.
func binomialRange(n int, p, alpha float64) (lo, hi int) {
	if p <= 0 {
		return 0, 0
	}
	if p >= 1 {
		return n, n
	}
	pmf := func(k int) float64 {
		lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
		return math.Exp(lg(n) - lg(k) - lg(n-k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	}
	tail := 0.0
	for lo = 0; lo < n; lo++ {
		if tail+pmf(lo) > alpha/2 {
			break
		}
		tail += pmf(lo)
	}
	tail = 0
	for hi = n; hi > 0; hi-- {
		if tail+pmf(hi) > alpha/2 {
			break
		}
		tail += pmf(hi)
	}
	return lo, hi
}

package plan

import (
	"fmt"
	"strconv"
)

// DefaultName is the readable name of an expectation the script did not
// name: its kind and main arguments, as a reader of the report needs them
// to know what was checked ("liveness(tolerance=0.8, lag=2)",
// "metric max(cryptarchia_lib_height) >= 5").
func DefaultName(e Expectation) string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch e.Kind {
	case ExpectLiveness:
		l := deref(e.Liveness)
		if l.MaxStall > 0 {
			return fmt.Sprintf("liveness(tolerance=%s, lag=%d, max_stall=%s)", num(l.Tolerance), l.Lag, num(l.MaxStall))
		}
		return fmt.Sprintf("liveness(tolerance=%s, lag=%d)", num(l.Tolerance), l.Lag)
	case ExpectTxInclusion, ExpectDAInclusion:
		return fmt.Sprintf("%s(min_ratio=%s)", e.Kind, num(deref(e.Inclusion).MinRatio))
	case ExpectMetric:
		m := deref(e.Metric)
		return fmt.Sprintf("metric %s %s %s", m.Query, m.Op, num(m.Value))
	case ExpectLog:
		l := deref(e.Log)
		return fmt.Sprintf("log %s /%s/", l.Targets, l.Pattern)
	case ExpectCustom:
		return "custom " + deref(e.Custom).Func
	}
	return string(e.Kind)
}

// deref returns *p, or the zero value when p is nil: the parameters of an
// entry that has none read as zero, as its flat fields used to.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// PosOf is the script position of the fault, workload, hook or expectation
// with the given id (their ids never collide), or the zero Pos.
func (p *Plan) PosOf(id string) Pos {
	for _, f := range p.Faults {
		if f.ID == id {
			return f.Pos
		}
	}
	for _, w := range p.Workloads {
		if w.ID == id {
			return w.Pos
		}
	}
	for _, h := range p.Hooks {
		if h.ID == id {
			return h.Pos
		}
	}
	for _, e := range p.Expectations {
		if e.ID == id {
			return e.Pos
		}
	}
	return Pos{}
}

package plan

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Starlark methods return each step as the canonical scenario call that
// records it, for logs and for the round-trip tests of the builtins:
// interpreting the calls of a plan gives back the same plan.

// Starlark returns the topology(...) call of the topology.
func (t Topology) Starlark() string {
	s := fmt.Sprintf("topology(validators=%d, executors=%d, network=%q, slot=%q, active_slot_coeff=%s, security_param=%d",
		t.Validators, t.Executors, t.Network, t.Slot.String(), num(t.ActiveSlotCoeff), t.SecurityParam)
	if t.Node != "" {
		s += fmt.Sprintf(", node=%q", t.Node)
	}
	if t.NodeBinary != "" {
		s += fmt.Sprintf(", node_binary=%q", t.NodeBinary)
	}
	if t.Image != "" {
		s += fmt.Sprintf(", image=%q", t.Image)
	}
	return s + ")"
}

// Starlark returns the wallets(...) call, or "" when no wallets are declared.
func (w Wallets) Starlark() string {
	if w.Count == 0 {
		return ""
	}
	return fmt.Sprintf("wallets(%d, funds=%d)", w.Count, w.Funds)
}

// Starlark returns the run(...) call.
func (r Run) Starlark() string {
	if r.Blocks > 0 {
		return fmt.Sprintf("run(blocks=%d)", r.Blocks)
	}
	return fmt.Sprintf("run(%q)", r.Duration.String())
}

// Starlark returns the workload's call.
func (w Workload) Starlark() string {
	switch {
	case w.Transactions != nil:
		users := "None"
		if w.Transactions.Users > 0 {
			users = strconv.Itoa(w.Transactions.Users)
		}
		return fmt.Sprintf("transactions(rate=%d, users=%s)", w.Transactions.Rate, users)
	case w.DA != nil:
		return fmt.Sprintf("da(channel_rate=%d, blob_rate=%d, headroom=%d)", w.DA.ChannelRate, w.DA.BlobRate, w.DA.Headroom)
	case w.ChaosRestart != nil:
		c := w.ChaosRestart
		return fmt.Sprintf("chaos_restart(validators=%s, executors=%s, min_delay=%q, max_delay=%q, target_cooldown=%q)",
			pyBool(c.Validators), pyBool(c.Executors), c.MinDelay.String(), c.MaxDelay.String(), c.TargetCooldown.String())
	}
	return string(w.Kind) + "()"
}

// Starlark returns the fault's call.
func (f Fault) Starlark() string {
	window := fmt.Sprintf("at=%s, duration=%s", spanCall(f.At), spanCall(f.Duration))
	if f.Via != ViaAuto {
		window += fmt.Sprintf(", via=%q", f.Via)
	}
	switch {
	case f.Kill != nil:
		return fmt.Sprintf("kill(%s, at=%s, restart_after=%s)", selectorCall(f.Targets), spanCall(f.At), spanCall(f.Kill.RestartAfter))
	case f.Partition != nil:
		groups := make([]string, len(f.Partition.GroupSpecs))
		for i, g := range f.Partition.GroupSpecs {
			groups[i] = selectorCall(g)
		}
		return fmt.Sprintf("partition([%s], %s)", strings.Join(groups, ", "), window)
	case f.Latency != nil:
		l := f.Latency
		return fmt.Sprintf("latency(%s, delay=%q, jitter=%q, loss=%s, %s)", selectorCall(f.Targets),
			l.Delay.String(), l.Jitter.String(), num(l.Loss), window)
	case f.ClockSkew != nil:
		return fmt.Sprintf("clock_skew(%s, offset=%q, at=%s)", selectorCall(f.Targets), f.ClockSkew.Offset.String(), spanCall(f.At))
	case f.Bug != nil:
		return fmt.Sprintf("inject_bug(%s, %q, %s)", selectorCall(f.Targets), f.Bug.Name, window)
	}
	return fmt.Sprintf("%s(%s, %s)", f.Kind, selectorCall(f.Targets), window)
}

// Starlark returns the expectation's call; a custom expectation names its
// function, which must be defined for the call to interpret.
func (e Expectation) Starlark() string {
	switch e.Kind {
	case ExpectLiveness:
		l := deref(e.Liveness)
		return fmt.Sprintf("expect_liveness(tolerance=%s, lag=%d)", num(l.Tolerance), l.Lag)
	case ExpectTxInclusion, ExpectDAInclusion:
		return fmt.Sprintf("expect_%s(min_ratio=%s)", e.Kind, num(deref(e.Inclusion).MinRatio))
	case ExpectAgreement:
		return "expect_consensus_agreement()"
	case ExpectMetric:
		m := deref(e.Metric)
		return fmt.Sprintf("expect_metric(%q, %q, %s)", m.Query, m.Op, num(m.Value))
	case ExpectLog:
		l := deref(e.Log)
		return fmt.Sprintf("expect_log(%s, %q)", selectorCall(l.Targets), l.Pattern)
	case ExpectCustom:
		return fmt.Sprintf("expect(%s, name=%q)", strings.SplitN(deref(e.Custom).Func, "@", 2)[0], e.Name)
	}
	return "expect_" + string(e.Kind) + "()"
}

// Starlark returns the plan as a scenario script, one call per line.
// Implicit expectations are left out: their workload attaches them.
func (p *Plan) Starlark() string {
	lines := []string{p.Topology.Starlark()}
	if w := p.Wallets.Starlark(); w != "" {
		lines = append(lines, w)
	}
	for _, w := range p.Workloads {
		lines = append(lines, w.Starlark())
	}
	for _, f := range p.Faults {
		lines = append(lines, f.Starlark())
	}
	for _, e := range p.Expectations {
		if !e.Implicit {
			lines = append(lines, e.Starlark())
		}
	}
	for _, h := range p.Hooks {
		lines = append(lines, h.Starlark())
	}
	lines = append(lines, p.Run.Starlark())
	if len(p.Matrix) > 0 {
		lines = append(lines, matrixCall(p.Matrix))
	}
	return strings.Join(lines, "\n") + "\n"
}

// matrixCall returns the matrix(...) call; values are kept as strings, the
// form --matrix and --set give them in.
func matrixCall(axes []MatrixAxis) string {
	args := make([]string, len(axes))
	for i, a := range axes {
		vals := make([]string, len(a.Values))
		for j, v := range a.Values {
			vals[j] = strconv.Quote(v)
		}
		args[i] = a.Name + "=[" + strings.Join(vals, ", ") + "]"
	}
	return "matrix(" + strings.Join(args, ", ") + ")"
}

func spanCall(s Span) string {
	switch {
	case s.Blocks > 0:
		return fmt.Sprintf("blocks(%d)", s.Blocks)
	case s.Slots > 0:
		return fmt.Sprintf("slots(%d)", s.Slots)
	case s.Wall > 0:
		return strconv.Quote(time.Duration(s.Wall).String())
	}
	return "None"
}

func selectorCall(s Selector) string {
	switch {
	case s.All, s.Role != "":
		return strconv.Quote(s.String())
	case s.Index != nil:
		return strconv.Itoa(*s.Index)
	case len(s.Names) == 1 && !selectorWord(s.Names[0]):
		return strconv.Quote(s.Names[0])
	}
	names := make([]string, len(s.Names))
	for i, n := range s.Names {
		names[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// num formats a float so Starlark reads it back as the same float.
func num(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") && !strings.Contains(s, "Inf") && !strings.Contains(s, "NaN") {
		s += ".0"
	}
	return s
}

package plan

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteText prints the plan for people: topology, schedule of workloads and
// faults with their windows in wall time, expectations, derived figures and
// warnings. It is the default output of `nomosrun plan`.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	t := p.Topology
	fmt.Fprintf(&b, "scenario  %s\nseed      %d\n", p.Scenario, p.Seed)
	if len(p.Params) > 0 {
		keys := make([]string, 0, len(p.Params))
		for k := range p.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + p.Params[k]
		}
		fmt.Fprintf(&b, "params    %s\n", strings.Join(keys, " "))
	}
	fmt.Fprintf(&b, "\ntopology  %d validators, %d executors, network %s\n", t.Validators, t.Executors, t.Network)
	fmt.Fprintf(&b, "          slot %s, active_slot_coeff %g, security_param %d\n", t.Slot, t.ActiveSlotCoeff, t.SecurityParam)
	if t.Node != "" {
		fmt.Fprintf(&b, "          node %s\n", t.Node)
	}
	if t.NodeBinary != "" {
		fmt.Fprintf(&b, "          node_binary %s\n", t.NodeBinary)
	}
	if t.Image != "" {
		fmt.Fprintf(&b, "          image %s\n", t.Image)
	}
	fmt.Fprintf(&b, "          nodes %s\n", nodeRange(t))
	if p.Wallets.Count > 0 {
		fmt.Fprintf(&b, "wallets   %d x %d funds\n", p.Wallets.Count, p.Wallets.Funds)
	}
	d := p.Derived
	fmt.Fprintf(&b, "run       %s (%d expected blocks, block interval %s, cooldown %s)\n",
		ms(d.RunDuration.Std()), d.ExpectedBlocks, ms(d.BlockInterval.Std()), ms(d.Cooldown.Std()))

	b.WriteString("\nschedule\n")
	if len(p.Workloads)+len(p.Faults) == 0 {
		b.WriteString("  (nothing: the nodes run on their own)\n")
	}
	for _, wl := range p.Workloads {
		fmt.Fprintf(&b, "  %-4s %-22s %s  %s\n", wl.ID, "0s.."+ms(d.RunDuration.Std()), wl.describe(d), wl.Pos)
	}
	for _, f := range p.Faults {
		fmt.Fprintf(&b, "  %-4s %-22s %s%s  %s\n", f.ID, p.window(f), f.describe(), f.Via.describe(f.Kind), f.Pos)
	}
	b.WriteString("\nexpectations\n")
	if len(p.Expectations) == 0 {
		b.WriteString("  (none: the run passes if it completes)\n")
	}
	for _, e := range p.Expectations {
		implicit := ""
		if e.Implicit {
			implicit = " (implicit)"
		}
		fmt.Fprintf(&b, "  %-4s %s%s  %s\n", e.ID, e.describe(), implicit, e.Pos)
	}
	if len(p.Hooks) > 0 {
		b.WriteString("\nhooks\n")
	}
	for _, h := range p.Hooks {
		fmt.Fprintf(&b, "  %-4s %s  %s\n", h.ID, h.describe(p), h.Pos)
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\nwarnings\n")
		for _, wn := range p.Warnings {
			fmt.Fprintf(&b, "  %s\n", wn)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// window formats when a fault starts and heals, in wall time.
func (p *Plan) window(f Fault) string {
	at := p.Wall(f.At)
	run := p.Derived.RunDuration.Std()
	var end time.Duration
	switch {
	case f.Kind == FaultKill && f.RestartAfter().IsZero():
		return ms(at) + ".."
	case f.Kind == FaultKill:
		end = at + p.Wall(f.RestartAfter())
	case f.Duration.IsZero():
		end = run
	default:
		end = at + p.Wall(f.Duration)
	}
	return ms(at) + ".." + ms(end)
}

// ms rounds a duration to milliseconds for display.
func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func (w Workload) describe(d Derived) string {
	switch {
	case w.Transactions != nil:
		users := "all"
		if w.Transactions.Users > 0 {
			users = fmt.Sprint(w.Transactions.Users)
		}
		return fmt.Sprintf("transactions(rate=%d, users=%s) -> %d txs", w.Transactions.Rate, users, d.PlannedTxs)
	case w.DA != nil:
		return fmt.Sprintf("da(channel_rate=%d, blob_rate=%d, headroom=%d) -> %d channels, %d blobs",
			w.DA.ChannelRate, w.DA.BlobRate, w.DA.Headroom, d.PlannedChannels, d.PlannedBlobs)
	case w.ChaosRestart != nil:
		c := w.ChaosRestart
		return fmt.Sprintf("chaos_restart(min_delay=%s, max_delay=%s, target_cooldown=%s) on %s",
			c.MinDelay, c.MaxDelay, c.TargetCooldown, strings.Join(c.Targets, ","))
	}
	return string(w.Kind)
}

func (f Fault) describe() string {
	switch {
	case f.Partition != nil:
		groups := make([]string, len(f.Partition.Groups))
		for i, g := range f.Partition.Groups {
			groups[i] = "[" + strings.Join(g, ",") + "]"
		}
		return "partition " + strings.Join(groups, " | ")
	case f.Latency != nil:
		l := f.Latency
		return fmt.Sprintf("latency %s delay=%s jitter=%s loss=%g", f.targets(), l.Delay, l.Jitter, l.Loss)
	case f.ClockSkew != nil:
		return fmt.Sprintf("clock_skew %s offset=%s", f.targets(), f.ClockSkew.Offset)
	case f.Bug != nil:
		return fmt.Sprintf("bug %s on %s (test only: never excused)", f.Bug.Name, f.targets())
	case f.Kill != nil && !f.Kill.RestartAfter.IsZero():
		return fmt.Sprintf("kill %s, restart after %s", f.targets(), strings.Trim(f.Kill.RestartAfter.String(), `"`))
	}
	return fmt.Sprintf("%s %s", f.Kind, f.targets())
}

// describe says how a network fault will be applied, for the plan text.
func (v Via) describe(k FaultKind) string {
	switch {
	case !k.IsNetwork():
		return ""
	case v == ViaKernel:
		return ", in the kernel"
	case v == ViaNode:
		return ", by the node's testing API"
	}
	return ", in the kernel where the runner's network takes it, else by the node"
}

func (f Fault) targets() string { return strings.Join(f.Targets.Nodes, ",") }

func (e Expectation) describe() string {
	switch e.Kind {
	case ExpectLiveness:
		l := deref(e.Liveness)
		return fmt.Sprintf("liveness(tolerance=%g, lag=%d)", l.Tolerance, l.Lag)
	case ExpectTxInclusion, ExpectDAInclusion:
		return fmt.Sprintf("%s(min_ratio=%g)", e.Kind, deref(e.Inclusion).MinRatio)
	case ExpectMetric:
		m := deref(e.Metric)
		return fmt.Sprintf("metric %s %s %g", m.Query, m.Op, m.Value)
	case ExpectLog:
		l := deref(e.Log)
		return fmt.Sprintf("log %s =~ %q", strings.Join(l.Targets.Nodes, ","), l.Pattern)
	case ExpectCustom:
		return fmt.Sprintf("custom %s (function %s)", e.Name, deref(e.Custom).Func)
	}
	return string(e.Kind)
}

// describe says when the hook runs and what it may do.
func (h Hook) describe(p *Plan) string {
	var when string
	switch h.Kind {
	case HookEvery:
		when = "every " + spanText(h.Every, p.Wall(h.Every))
	case HookAt:
		when = "at " + spanText(h.At, p.Wall(h.At))
	default:
		when = "on each canonical block"
	}
	uses := "uses nothing"
	if len(h.Uses) > 0 {
		uses = "uses " + capList(NewCapabilities(h.Uses...))
	}
	return fmt.Sprintf("%s %s, %s", h.Func, when, uses)
}

// spanText shows a span with its wall time: "40s", or "blocks(5) (11.111s)".
func spanText(s Span, wall time.Duration) string {
	if s.Blocks == 0 && s.Slots == 0 {
		return ms(wall)
	}
	return fmt.Sprintf("%s (%s)", s, ms(wall))
}

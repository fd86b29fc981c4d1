package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nomosrun/nomosrun/engine/plan"
)

// WriteJSON writes the result as indented JSON (report.json).
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a result written by WriteJSON.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return &r, nil
}

// WriteText writes the plain-text terminal summary.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	verdict := strings.ToUpper(r.Outcome)
	fmt.Fprintf(&b, "%s  %s  (runner %s, seed %d, %s)\n", verdict, r.Scenario, r.Runner, r.Seed, round(r.Duration))
	if r.Error != "" && r.Outcome != OutcomeFailed {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	if len(r.Nodes) > 0 {
		fmt.Fprintf(&b, "\nnodes (expected %d blocks in the run window):\n", r.ExpectedBlocks)
		for _, n := range r.Nodes {
			if n.Error != "" {
				fmt.Fprintf(&b, "  %-14s %-9s error: %s\n", n.Name, n.Role, n.Error)
				continue
			}
			fmt.Fprintf(&b, "  %-14s %-9s height %-5d lib %s  tip %s  %s\n", n.Name, n.Role, n.Height, short(n.LIB), short(n.Tip), n.Mode)
		}
		fmt.Fprintf(&b, "  chain: height %d, %d blocks, %d orphaned, %d transactions\n",
			r.Chain.Height, r.Chain.Blocks, r.Chain.Orphaned, r.Chain.Transactions)
	}
	if len(r.Workloads) > 0 {
		b.WriteString("\nworkloads:\n")
		for _, wl := range r.Workloads {
			fmt.Fprintf(&b, "  %-4s %-14s %s", wl.ID, wl.Kind, counts(wl.Counts))
			if wl.Error != "" {
				fmt.Fprintf(&b, "  error: %s", wl.Error)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Faults) > 0 {
		b.WriteString("\nfaults:\n")
		for _, f := range r.Faults {
			kind := string(f.Kind)
			if f.Bug != "" {
				kind += " " + f.Bug
			}
			fmt.Fprintf(&b, "  %-4s %-11s %s  %s .. %s", f.ID, kind, strings.Join(f.Targets, ","), round(f.Start), round(f.End))
			if f.Error != "" {
				fmt.Fprintf(&b, "  error: %s", f.Error)
			}
			b.WriteString("\n")
			if f.Applied != "" {
				fmt.Fprintf(&b, "       applied %s\n", f.Applied)
			}
			if f.Healed != "" {
				fmt.Fprintf(&b, "       healed: %s\n", f.Healed)
			}
		}
	}
	if restarts := r.Restarts(); len(restarts) > 0 {
		b.WriteString("\nrestarts:\n")
		for _, ev := range restarts {
			fmt.Fprintf(&b, "  %-4s %s  %s\n", ev.Name, strings.Join(ev.Nodes, ","), round(ev.At))
		}
	}
	if r.Hooks != nil {
		fmt.Fprintf(&b, "\nhooks (on_block lagged the feed by at most %s, %d blocks):\n", round(r.Hooks.MaxLag), r.Hooks.MaxLagBlocks)
		for _, h := range r.Hooks.Hooks {
			fmt.Fprintf(&b, "  %-4s %-8s %-20s %d calls", h.ID, h.Kind, h.Func, h.Calls)
			if h.Calls > 0 {
				fmt.Fprintf(&b, ", %s each on average", (h.Busy.Std() / time.Duration(h.Calls)).Round(time.Microsecond))
			}
			if h.Skipped > 0 {
				fmt.Fprintf(&b, ", %d intervals skipped while a call ran", h.Skipped)
			}
			b.WriteString("\n")
		}
	}
	for _, s := range r.Series {
		if len(s.Points) > 0 {
			last := s.Points[len(s.Points)-1]
			fmt.Fprintf(&b, "  series %s: %d values, last %g at %s\n", s.Name, len(s.Points), last.Value, round(last.At))
		}
	}
	if len(r.Expectations) > 0 {
		b.WriteString("\nexpectations:\n")
		for _, e := range r.Expectations {
			mark := "ok  "
			if !e.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(&b, "  %s %-4s %s", mark, e.ID, e.Name)
			if e.Pos != "" {
				fmt.Fprintf(&b, "  (%s)", e.Pos)
			}
			b.WriteString("\n")
			if e.Summary != "" {
				fmt.Fprintf(&b, "         %s\n", e.Summary)
			}
			if !e.Passed && e.Message != "" {
				for _, line := range strings.Split(e.Message, "\n") {
					fmt.Fprintf(&b, "         %s\n", line)
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// round shortens a duration for reading (millisecond precision).
func round(d plan.Duration) time.Duration { return d.Std().Round(time.Millisecond) }

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

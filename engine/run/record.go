package run

import (
	"context"
	"errors"
	"time"

	"github.com/nomosrun/nomosrun/engine/faults"
	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
)

// offset is the time since the run started.
func (x *execution) offset() plan.Duration { return plan.Duration(time.Since(x.start)) }

// emit sends ev to the observer, one call at a time.
func (x *execution) emit(ev Event) {
	if x.opts.Observer == nil {
		return
	}
	ev.At = time.Since(x.start)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.opts.Observer(ev)
}

// timeline appends an event to the result's timeline.
func (x *execution) timeline(kind, name, detail string) {
	x.mu.Lock()
	x.res.Timeline = append(x.res.Timeline, report.TimelineEvent{At: x.offset(), Kind: kind, Name: name, Detail: detail})
	x.mu.Unlock()
}

// phase records entering ph.
func (x *execution) phase(ph Phase) {
	x.log.Info("phase", "phase", string(ph))
	x.timeline("phase", string(ph), "")
	x.emit(Event{Kind: EventPhase, Phase: ph})
}

// faultEvent records a fault starting, healing or being skipped.
func (x *execution) faultEvent(ev faults.Event) {
	f := ev.Fault
	kind := map[faults.Phase]EventKind{faults.Started: EventFaultStart, faults.Healed: EventFaultHeal,
		faults.Skipped: EventFaultSkipped}[ev.Phase]
	targets := f.Targets.Nodes
	for _, g := range f.PartitionGroups() {
		targets = append(targets, g...)
	}
	detail := string(f.Kind)
	if bug := f.BugName(); bug != "" {
		detail += " " + bug
	}
	if ev.Err != nil {
		detail += ": " + ev.Err.Error()
	}
	at := plan.Duration(ev.At.Sub(x.start))
	x.mu.Lock()
	x.res.Timeline = append(x.res.Timeline, report.TimelineEvent{At: at, Kind: string(kind), Name: f.ID, Nodes: targets, Detail: detail})
	switch ev.Phase {
	case faults.Started:
		x.faults[f.ID] = len(x.res.Faults)
		x.res.Faults = append(x.res.Faults, report.FaultWindow{ID: f.ID, Kind: f.Kind, Bug: f.BugName(), Targets: targets, Start: at, End: at,
			Via: ev.Via, Applied: ev.Measured})
	case faults.Healed:
		if i, ok := x.faults[f.ID]; ok {
			x.res.Faults[i].End = at
			x.res.Faults[i].Healed = ev.Measured
			if f.Kind.Excused() { // the checkers excuse the targets for the window
				x.hist.AddFault(string(f.Kind), targets, x.res.Faults[i].Start.Std(), at.Std())
			}
		}
	}
	if ev.Err != nil {
		if i, ok := x.faults[f.ID]; ok {
			x.res.Faults[i].Error = ev.Err.Error()
		}
	}
	x.mu.Unlock()
	x.emit(Event{Kind: kind, ID: f.ID, Detail: detail, Err: ev.Err})
}

// finalNodes records every node's final state (one try each).
func (x *execution) finalNodes(ctx context.Context) {
	var out []report.NodeResult
	for _, n := range x.nodes {
		r := report.NodeResult{Name: n.Name, Role: n.Role}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		info, err := n.Client.Info(cctx)
		cancel()
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Height, r.LIB, r.Tip, r.Mode = info.Height, info.LIB, info.Tip, info.Mode
		}
		out = append(out, r)
	}
	x.mu.Lock()
	x.res.Nodes = out
	x.mu.Unlock()
}

// finish sets the outcome, chain stats and duration of the result and
// writes the report files when asked to.
func (x *execution) finish(err error) {
	x.settleResult(err)
	if x.opts.ReportDir != "" {
		if werr := report.WriteDir(x.res, x.opts.ReportDir); werr != nil {
			x.log.Error("write report", "dir", x.opts.ReportDir, "err", werr)
		}
	}
}

func (x *execution) settleResult(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.feed != nil {
		st := x.feed.Stats()
		x.res.Chain = report.ChainStats{Height: st.Height, Blocks: st.Blocks, Orphaned: st.Orphaned, Transactions: st.Transactions}
	}
	if len(x.res.Workloads) == 0 {
		x.res.Workloads = x.workloadResults()
	}
	x.res.Duration = plan.Duration(time.Since(x.start))
	x.res.Outcome = report.OutcomePassed
	if err == nil {
		return
	}
	x.res.Error = err.Error()
	var re *Error
	switch {
	case errors.As(err, &re) && re.Kind == KindExpectations:
		x.res.Outcome = report.OutcomeFailed
	case errors.As(err, &re) && re.Kind == KindInterrupted:
		x.res.Outcome = report.OutcomeInterrupted
	default:
		x.res.Outcome = report.OutcomeError
	}
}

package kernelnet

import (
	"fmt"
	"strings"
	"time"
)

// Report is what the probes measured after a fault was applied or healed.
type Report struct {
	// Fault is the fault id.
	Fault string
	// Action says what was checked: "cut", "loss 20%", "delay 200ms±10ms"
	// or "healed".
	Action string
	// Links is how many directed links were probed; Held how many of them
	// behaved as the action asks.
	Links, Held int
	// Skipped counts links left unprobed after a heal because another
	// fault still cuts them.
	Skipped int
	// Away counts links (or delayed nodes) left unprobed because a node
	// was away (Leave) at the time.
	Away int
	// Detail holds the measured values, one entry per link or group.
	Detail []string
	// Applied is how long putting the fault in place (or removing it) took;
	// Elapsed runs from the start of the call to the end of the probes.
	Applied, Elapsed time.Duration
}

// OK reports whether every probed link behaved as asked.
func (r Report) OK() bool { return r.Held == r.Links }

// String is one line for a report's fault table, for example
// "f1: 8/8 links cut, verified in 120ms".
func (r Report) String() string {
	s := fmt.Sprintf("%s: %d/%d links %s, verified in %v", r.Fault, r.Held, r.Links, r.Action,
		r.Elapsed.Round(time.Millisecond))
	if r.Skipped > 0 {
		s += fmt.Sprintf(" (%d still cut by other faults)", r.Skipped)
	}
	if r.Away > 0 {
		s += fmt.Sprintf(" (%d not probed: a node was down)", r.Away)
	}
	return s
}

// VerifyError is a fault (or heal) the probes could not confirm.
type VerifyError struct{ Report Report }

// Error names the fault and what the probes measured.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("fault %s not verified: %d/%d links %s: %s", e.Report.Fault, e.Report.Held,
		e.Report.Links, e.Report.Action, strings.Join(e.Report.Detail, "; "))
}

// result turns a report into the value and error a fault call returns.
func result(r Report, start time.Time) (Report, error) {
	r.Elapsed = time.Since(start)
	if !r.OK() {
		return r, &VerifyError{Report: r}
	}
	return r, nil
}

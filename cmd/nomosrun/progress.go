package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/run"
)

// progress renders run events. On a terminal it keeps one status line up to
// date (phase, height per node, workload counts); elsewhere (CI logs) it
// prints phase changes and faults as they happen and the status at most
// every plainEvery.
type progress struct {
	w        io.Writer
	terminal bool

	mu       sync.Mutex
	phase    run.Phase
	heights  map[string]uint64
	counts   map[string]map[string]int
	lastLine time.Time
	drawn    bool
}

const plainEvery = 5 * time.Second

func newProgress(w io.Writer) *progress {
	return &progress{w: w, terminal: isTerminal(w), heights: map[string]uint64{}, counts: map[string]map[string]int{}}
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) observe(ev run.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case run.EventPhase:
		p.phase = ev.Phase
		p.line(fmt.Sprintf("[%6s] phase %s", clock(ev.At), ev.Phase))
	case run.EventHeight:
		if ev.Err == nil {
			p.heights[ev.Node] = ev.Height
		}
	case run.EventWorkload:
		p.counts[ev.ID] = ev.Counts
	case run.EventFaultStart, run.EventFaultHeal, run.EventFaultSkipped, run.EventRestart:
		what := strings.ReplaceAll(string(ev.Kind), "_", " ")
		msg := strings.TrimSpace(fmt.Sprintf("%s %s %s %s", what, ev.ID, ev.Node, ev.Detail))
		p.line(fmt.Sprintf("[%6s] %s", clock(ev.At), strings.Join(strings.Fields(msg), " ")))
	case run.EventHookLog:
		p.line(fmt.Sprintf("[%6s] %s: %s", clock(ev.At), ev.ID, ev.Detail))
	case run.EventExpectation:
		verdict := "FAIL"
		if ev.Passed {
			verdict = "ok"
		}
		p.line(fmt.Sprintf("[%6s] expectation %s %s", clock(ev.At), ev.ID, verdict))
	}
	p.status(ev.At)
}

// line prints a permanent line, above the status line on a terminal.
func (p *progress) line(s string) {
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, s)
}

// status shows heights and workload counts: redrawn in place on a terminal,
// rate-limited plain lines otherwise.
func (p *progress) status(at time.Duration) {
	if len(p.heights) == 0 {
		return
	}
	s := fmt.Sprintf("[%6s] %s | %s", clock(at), p.phase, p.summary())
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K"+s)
		p.drawn = true
		return
	}
	if now := time.Now(); now.Sub(p.lastLine) >= plainEvery {
		p.lastLine = now
		fmt.Fprintln(p.w, s)
	}
}

func (p *progress) summary() string {
	names := make([]string, 0, len(p.heights))
	for n := range p.heights {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names)+len(p.counts))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%d", shortName(n), p.heights[n]))
	}
	ids := make([]string, 0, len(p.counts))
	for id := range p.counts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var kv []string
		for k, v := range p.counts[id] {
			kv = append(kv, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(kv)
		parts = append(parts, id+"{"+strings.Join(kv, ",")+"}")
	}
	return "heights " + strings.Join(parts, " ")
}

// done ends the status line so later output starts on a fresh line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// shortName abbreviates validator-3 to v3 and executor-1 to e1.
func shortName(n string) string {
	if i := strings.LastIndexByte(n, '-'); i > 0 {
		return n[:1] + n[i+1:]
	}
	return n
}

func clock(d time.Duration) string { return d.Round(100 * time.Millisecond).String() }

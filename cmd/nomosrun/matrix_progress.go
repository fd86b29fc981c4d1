package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nomosrun/nomosrun/engine/matrix"
	"github.com/nomosrun/nomosrun/engine/run"
)

// matrixEvery spaces the status lines of a matrix run.
const matrixEvery = 10 * time.Second

// matrixProgress prints a line when a job starts or ends and, every
// matrixEvery, which jobs are running, in which phase and at which height.
type matrixProgress struct {
	w     io.Writer
	total int
	start time.Time
	quit  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	done    int
	counts  map[string]int
	running map[string]*jobState
}

type jobState struct {
	phase  run.Phase
	height uint64
}

func newMatrixProgress(w io.Writer, total int) *matrixProgress {
	p := &matrixProgress{w: w, total: total, start: time.Now(), quit: make(chan struct{}),
		counts: map[string]int{}, running: map[string]*jobState{}}
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *matrixProgress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(matrixEvery)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
			p.status()
		}
	}
}

func (p *matrixProgress) printf(format string, args ...any) {
	fmt.Fprintf(p.w, "[%6s] "+format+"\n", append([]any{clock(time.Since(p.start))}, args...)...)
}

// note prints a line about a job.
func (p *matrixProgress) note(id, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printf("job %s: %s", id, line)
}

func (p *matrixProgress) started(j matrix.Job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[j.ID] = &jobState{}
	p.printf("job %s started", j.ID)
}

func (p *matrixProgress) observe(id string, ev run.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.running[id]
	if s == nil {
		return
	}
	switch ev.Kind {
	case run.EventPhase:
		s.phase = ev.Phase
	case run.EventHeight:
		if ev.Err == nil {
			s.height = max(s.height, ev.Height)
		}
	}
}

func (p *matrixProgress) finished(r matrix.JobResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, r.ID)
	p.done++
	p.counts[r.Outcome]++
	detail := ""
	if r.Error != "" {
		detail = ": " + firstLineOf(r.Error)
	}
	p.printf("job %s %s (exit %d) in %s [%d/%d]%s", r.ID, r.Outcome, r.ExitCode,
		time.Duration(r.Seconds*1e9).Round(100*time.Millisecond), p.done, p.total, detail)
}

func (p *matrixProgress) status() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, 0, len(p.running))
	for id := range p.running {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		s := p.running[id]
		parts[i] = fmt.Sprintf("%s %s h=%d", id, s.phase, s.height)
	}
	p.printf("%d/%d done (%d passed); running: %s", p.done, p.total, p.counts["passed"], strings.Join(parts, ", "))
}

// stop ends the status lines.
func (p *matrixProgress) stop() {
	close(p.quit)
	p.wg.Wait()
}

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

package matrix

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nomosrun/nomosrun/engine/report"
)

// OutcomeSkipped marks a job that never started: --fail-fast after a
// failure, or an interrupt.
const OutcomeSkipped = "skipped"

// JobResult is the outcome of one job.
type JobResult struct {
	Job
	// Outcome is a report outcome (passed, failed, error, interrupted) or
	// skipped.
	Outcome  string  `json:"outcome"`
	ExitCode int     `json:"exit_code"`
	Seconds  float64 `json:"seconds"`
	// Error is the job's error, empty when it passed.
	Error string `json:"error,omitempty"`
	// Dir is the job's report directory, relative to the summary.
	Dir string `json:"dir,omitempty"`
	// Result is the run's result; nil when the job failed before deploying
	// or was skipped.
	Result *report.Result `json:"-"`
}

// Summary is a matrix run.
type Summary struct {
	Scenario string      `json:"scenario"`
	Seed     int64       `json:"seed"`
	Axes     []Axis      `json:"axes"`
	Runners  []string    `json:"runners"`
	Shard    string      `json:"shard,omitempty"`
	Parallel int         `json:"parallel"`
	Started  time.Time   `json:"started"`
	Seconds  float64     `json:"seconds"`
	ExitCode int         `json:"exit_code"`
	Jobs     []JobResult `json:"jobs"`
}

// Counts returns how many jobs ended with each outcome.
func (s *Summary) Counts() map[string]int {
	c := map[string]int{}
	for _, j := range s.Jobs {
		c[j.Outcome]++
	}
	return c
}

// WriteTable writes one line per job and a total line.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tOUTCOME\tEXIT\tTIME\tDETAIL")
	for _, j := range s.Jobs {
		detail := jobDetail(j)
		if len(detail) > 100 {
			detail = detail[:97] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", j.ID, j.Outcome, j.ExitCode, (time.Duration(j.Seconds * 1e9)).Round(100*time.Millisecond), detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	c := s.Counts()
	var parts []string
	for _, o := range []string{report.OutcomePassed, report.OutcomeFailed, report.OutcomeError, report.OutcomeInterrupted, OutcomeSkipped} {
		if c[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[o], o))
		}
	}
	_, err := fmt.Fprintf(w, "%d jobs: %s in %s (exit %d)\n", len(s.Jobs), strings.Join(parts, ", "),
		time.Duration(s.Seconds*1e9).Round(100*time.Millisecond), s.ExitCode)
	return err
}

// WriteJSON writes summary.json.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteFiles writes summary.json, junit.xml and index.html into dir.
func (s *Summary) WriteFiles(dir string) error {
	for name, write := range map[string]func(io.Writer) error{
		"summary.json": s.WriteJSON,
		"junit.xml":    s.WriteJUnit,
		"index.html":   s.WriteHTML,
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// jobDetail is a job's table cell: its expectations when it ran them, else
// its error.
func jobDetail(j JobResult) string {
	if j.Result == nil || len(j.Result.Expectations) == 0 {
		return firstLine(j.Error)
	}
	failed := j.Result.Failed()
	if len(failed) == 0 {
		return fmt.Sprintf("%d expectations passed", len(j.Result.Expectations))
	}
	d := failed[0].ID + " " + failed[0].Name + ": " + strings.TrimSuffix(firstLine(failed[0].Message), ":")
	if len(failed) > 1 {
		d += fmt.Sprintf(" (+%d more failed)", len(failed)-1)
	}
	return d
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

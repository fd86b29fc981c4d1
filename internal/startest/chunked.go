// Package startest reads .star behaviour tests: a file split into
// independent chunks by "---" lines, with expected errors marked inline as
//
//	kill("validator-9")  ### "no node \"validator-9\""
//
// It is a small reimplementation of go.starlark.net's internal chunkedfile
// (which cannot be imported), extended to errors of any phase: a chunk
// collects the errors it got by line and reports the unexpected and the
// missing ones.
package startest

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Reporter is implemented by *testing.T.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Chunk is one independent part of a test file. Source is padded with
// blank lines so its line numbers are those of the file.
type Chunk struct {
	Source   string
	Line     int // first line of the chunk in the file
	filename string
	report   Reporter
	want     map[int]*regexp.Regexp
}

// Read splits filename into chunks and parses their ### annotations.
func Read(filename string, report Reporter) []*Chunk {
	data, err := os.ReadFile(filename)
	if err != nil {
		report.Errorf("%v", err)
		return nil
	}
	return Parse(filename, string(data), report)
}

// Parse is Read on data already in memory.
func Parse(filename, data string, report Reporter) []*Chunk {
	var chunks []*Chunk
	linenum := 1
	for _, text := range strings.Split(data, "\n---\n") {
		c := &Chunk{Source: strings.Repeat("\n", linenum-1) + text, Line: linenum, filename: filename,
			report: report, want: map[int]*regexp.Regexp{}}
		for _, line := range strings.Split(text, "\n") {
			if _, after, ok := strings.Cut(line, "###"); ok {
				rest := strings.TrimSpace(after)
				pattern, err := strconv.Unquote(rest)
				if err != nil {
					report.Errorf("\n%s:%d: not a quoted regexp: %s", filename, linenum, rest)
				} else if rx, err := regexp.Compile(pattern); err != nil {
					report.Errorf("\n%s:%d: %v", filename, linenum, err)
				} else {
					c.want[linenum] = rx
				}
			}
			linenum++
		}
		linenum++ // the "---" separator
		chunks = append(chunks, c)
	}
	return chunks
}

// GotError records an error the chunk produced at line. An error on a line
// without annotation, or not matching it, is reported.
func (c *Chunk) GotError(line int, msg string) {
	rx, ok := c.want[line]
	if !ok {
		c.report.Errorf("\n%s:%d: unexpected error: %s", c.filename, line, msg)
		return
	}
	delete(c.want, line)
	if !rx.MatchString(msg) {
		c.report.Errorf("\n%s:%d: error %q does not match pattern %q", c.filename, line, msg, rx)
	}
}

// Done reports the expected errors that did not occur.
func (c *Chunk) Done() {
	lines := make([]int, 0, len(c.want))
	for l := range c.want {
		lines = append(lines, l)
	}
	sort.Ints(lines)
	for _, l := range lines {
		c.report.Errorf("\n%s:%d: expected error matching %q", c.filename, l, c.want[l])
	}
}

// Directive returns the value of a "# name: value" comment line of the
// chunk, or "" (e.g. "# set: validators=3").
func (c *Chunk) Directive(name string) []string {
	var out []string
	for _, line := range strings.Split(c.Source, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "# "+name+":"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// String names the chunk for test output.
func (c *Chunk) String() string { return fmt.Sprintf("%s:%d", c.filename, c.Line) }

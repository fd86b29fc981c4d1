package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML types (the subset CI systems read).
type (
	// JUnitSuites is the document root.
	JUnitSuites struct {
		XMLName xml.Name     `xml:"testsuites"`
		Suites  []JUnitSuite `xml:"testsuite"`
	}
	// JUnitSuite is one run.
	JUnitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Time     string      `xml:"time,attr"`
		Props    []JUnitProp `xml:"properties>property,omitempty"`
		Cases    []JUnitCase `xml:"testcase"`
	}
	// JUnitProp is a suite property (runner, seed).
	JUnitProp struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	// JUnitCase is one expectation.
	JUnitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *JUnitFailure `xml:"failure,omitempty"`
		Error     *JUnitFailure `xml:"error,omitempty"`
		// SystemOut holds the figures the expectation judged.
		SystemOut string `xml:"system-out,omitempty"`
	}
	// JUnitFailure carries a failure message.
	JUnitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// JUnit converts a result: one testcase per expectation; a run that never
// reached evaluation gets one errored testcase named after its phase.
func JUnit(r *Result) JUnitSuites {
	s := JUnitSuite{
		Name: r.Scenario, Time: secs(r.Duration.Std().Seconds()),
		Props: []JUnitProp{{"runner", r.Runner}, {"seed", fmt.Sprint(r.Seed)}, {"outcome", r.Outcome}},
	}
	for _, e := range r.Expectations {
		c := JUnitCase{Name: e.ID + " " + e.Name, Classname: r.Scenario, Time: secs(e.Duration.Std().Seconds()),
			SystemOut: evidenceText(e)}
		if !e.Passed {
			c.Failure = &JUnitFailure{Message: firstLine(e.Message), Type: string(e.Kind), Text: e.Message}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	if r.Outcome == OutcomeError || r.Outcome == OutcomeInterrupted {
		s.Cases = append(s.Cases, JUnitCase{Name: "run", Classname: r.Scenario, Time: s.Time,
			Error: &JUnitFailure{Message: firstLine(r.Error), Type: r.Outcome, Text: r.Error}})
		s.Errors++
	}
	s.Tests = len(s.Cases)
	return JUnitSuites{Suites: []JUnitSuite{s}}
}

// evidenceText is an expectation's summary line and its evidence as
// indented JSON, or empty when it has neither.
func evidenceText(e ExpectResult) string {
	var b strings.Builder
	if e.Summary != "" {
		b.WriteString(e.Summary + "\n")
	}
	if e.Evidence != nil {
		b.WriteString("evidence: " + evidenceJSON(e.Evidence) + "\n")
	}
	return b.String()
}

// WriteJUnit writes the JUnit XML of a result.
func WriteJUnit(w io.Writer, r *Result) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(JUnit(r)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(s float64) string { return fmt.Sprintf("%.3f", s) }

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

package matrix

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/nomosrun/nomosrun/engine/report"
)

// JUnit XML of a matrix, following the junit-10.xsd schema CI servers
// read: one <testsuite> per job, one <testcase> per expectation.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string             `xml:"name,attr"`
		Tests     int                `xml:"tests,attr"`
		Failures  int                `xml:"failures,attr"`
		Errors    int                `xml:"errors,attr"`
		Skipped   int                `xml:"skipped,attr"`
		Time      string             `xml:"time,attr"`
		Timestamp string             `xml:"timestamp,attr,omitempty"`
		ID        int                `xml:"id,attr"`
		Props     []report.JUnitProp `xml:"properties>property,omitempty"`
		Cases     []junitCase        `xml:"testcase"`
	}
	junitCase struct {
		Name      string               `xml:"name,attr"`
		Classname string               `xml:"classname,attr"`
		Time      string               `xml:"time,attr"`
		Skipped   *report.JUnitFailure `xml:"skipped,omitempty"`
		Failure   *report.JUnitFailure `xml:"failure,omitempty"`
		Error     *report.JUnitFailure `xml:"error,omitempty"`
	}
)

// junit builds the matrix JUnit document: one suite per job.
func (s *Summary) junit() junitSuites {
	doc := junitSuites{Name: s.Scenario, Time: secs(s.Seconds)}
	for _, j := range s.Jobs {
		suite := junitSuite{Name: j.ID, ID: j.Index, Time: secs(j.Seconds),
			Props: []report.JUnitProp{{Name: "runner", Value: j.Runner}, {Name: "outcome", Value: j.Outcome},
				{Name: "seed", Value: fmt.Sprint(s.Seed)}}}
		for _, p := range j.Params {
			suite.Props = append(suite.Props, report.JUnitProp{Name: "param." + p.Name, Value: p.Value})
		}
		switch {
		case j.Result != nil:
			suite.Timestamp = j.Result.Started.UTC().Format("2006-01-02T15:04:05")
			for _, rs := range report.JUnit(j.Result).Suites {
				for _, c := range rs.Cases {
					suite.Cases = append(suite.Cases, junitCase{Name: c.Name, Classname: j.ID, Time: c.Time,
						Failure: c.Failure, Error: c.Error})
				}
			}
		case j.Outcome == OutcomeSkipped:
			suite.Cases = []junitCase{{Name: "run", Classname: j.ID, Time: secs(0),
				Skipped: &report.JUnitFailure{Message: firstLine(j.Error)}}}
		default:
			suite.Cases = []junitCase{{Name: "run", Classname: j.ID, Time: secs(j.Seconds),
				Error: &report.JUnitFailure{Message: firstLine(j.Error), Type: j.Outcome, Text: j.Error}}}
		}
		for _, c := range suite.Cases {
			switch {
			case c.Skipped != nil:
				suite.Skipped++
			case c.Failure != nil:
				suite.Failures++
			case c.Error != nil:
				suite.Errors++
			}
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Suites = append(doc.Suites, suite)
	}
	return doc
}

// WriteJUnit writes junit.xml.
func (s *Summary) WriteJUnit(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s.junit()); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(s float64) string { return fmt.Sprintf("%.3f", s) }

package matrix

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/internal/testenv"
)

func ids(jobs []Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func TestExpandOrderAndIDs(t *testing.T) {
	axes := []Axis{{"validators", []string{"2", "3"}}, {"rate", []string{"1", "5"}}}
	jobs, err := Expand([]string{"host", "compose"}, axes)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"host-validators=2-rate=1", "host-validators=2-rate=5", "host-validators=3-rate=1", "host-validators=3-rate=5",
		"compose-validators=2-rate=1", "compose-validators=2-rate=5", "compose-validators=3-rate=1", "compose-validators=3-rate=5",
	}
	if diff := cmp.Diff(want, ids(jobs)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for i, j := range jobs {
		if j.Index != i {
			t.Errorf("job %s has index %d, want %d", j.ID, j.Index, i)
		}
	}
	if got := jobs[6].Set(); !cmp.Equal(got, map[string]string{"validators": "3", "rate": "1"}) || jobs[6].Runner != "compose" {
		t.Errorf("job 6: runner %s, set %v", jobs[6].Runner, got)
	}
	again, _ := Expand([]string{"host", "compose"}, axes)
	if !cmp.Equal(jobs, again) {
		t.Error("a second expansion differs from the first")
	}
}

func TestExpandNoAxesAndUnsafeValues(t *testing.T) {
	jobs, err := Expand([]string{"host"}, nil)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "host" {
		t.Fatalf("no axes: %v, %v", ids(jobs), err)
	}
	jobs, err = Expand([]string{"host"}, []Axis{{"slot", []string{"1s", "0.5 s/x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if jobs[1].ID != "host-slot=0.5_s_x" || jobs[1].Params[0].Value != "0.5 s/x" {
		t.Errorf("unsafe value: id %s, value %q", jobs[1].ID, jobs[1].Params[0].Value)
	}
	_, err = Expand([]string{"host"}, []Axis{{"n", []string{"a/b", "a b"}}})
	if err == nil || !strings.Contains(err.Error(), "same id host-n=a_b") {
		t.Errorf("colliding ids: %v", err)
	}
}

func TestParseAxisAndMerge(t *testing.T) {
	a, err := ParseAxis("validators= 1, 3,5")
	if err != nil || !cmp.Equal(a, Axis{"validators", []string{"1", "3", "5"}}) {
		t.Fatalf("ParseAxis = %v, %v", a, err)
	}
	for in, want := range map[string]string{
		"validators":      `want name=value1,value2`,
		"=1,2":            `want name=value1,value2`,
		"v=1,,2":          `empty value`,
		"v=1,1":           `value "1" given twice`,
		"9v=1":            `invalid param name "9v"`,
		"validators=1,2,": `empty value`,
	} {
		if _, err := ParseAxis(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAxis(%q) = %v, want error containing %q", in, err, want)
		}
	}
	declared := []Axis{{"validators", []string{"2", "3"}}, {"rate", []string{"1"}}}
	got, err := Merge(declared, []Axis{{"rate", []string{"7", "8"}}, {"slot", []string{"1s"}}})
	want := []Axis{{"validators", []string{"2", "3"}}, {"rate", []string{"7", "8"}}, {"slot", []string{"1s"}}}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("Merge = %v, %v", got, err)
	}
	if _, err := Merge(nil, []Axis{{"a", []string{"1"}}, {"a", []string{"2"}}}); err == nil {
		t.Error("Merge accepted the same axis twice")
	}
}

// TestShardsPartition checks, over random matrices and shard counts, that
// the shards hold every job exactly once, in the original order, with sizes
// differing by at most one.
func TestShardsPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var axes []Axis
		for a := range rng.IntN(4) {
			ax := Axis{Name: string(rune('a' + a))}
			for v := range 1 + rng.IntN(4) {
				ax.Values = append(ax.Values, string(rune('0'+v)))
			}
			axes = append(axes, ax)
		}
		runners := []string{"host", "compose", "k8s"}[:1+rng.IntN(3)]
		jobs, err := Expand(runners, axes)
		if err != nil {
			t.Fatal(err)
		}
		n := 1 + rng.IntN(len(jobs)+3)
		seen := map[string]int{}
		minSize, maxSize := len(jobs), 0
		for i := 1; i <= n; i++ {
			shard := Shard(jobs, i, n)
			minSize, maxSize = min(minSize, len(shard)), max(maxSize, len(shard))
			for k, j := range shard {
				seen[j.ID]++
				if k > 0 && shard[k-1].Index >= j.Index {
					t.Fatalf("shard %d/%d out of order", i, n)
				}
			}
		}
		if maxSize-minSize > 1 {
			t.Fatalf("%d jobs in %d shards: sizes from %d to %d", len(jobs), n, minSize, maxSize)
		}
		for _, j := range jobs {
			if seen[j.ID] != 1 {
				t.Fatalf("%d jobs in %d shards: job %s in %d shards", len(jobs), n, j.ID, seen[j.ID])
			}
		}
		if len(seen) != len(jobs) {
			t.Fatalf("shards hold %d jobs, want %d", len(seen), len(jobs))
		}
	}
}

func TestParseShard(t *testing.T) {
	if i, n, err := ParseShard("2/4"); err != nil || i != 2 || n != 4 {
		t.Errorf("ParseShard(2/4) = %d, %d, %v", i, n, err)
	}
	for _, bad := range []string{"0/4", "5/4", "1", "a/b", "1/0", "-1/2"} {
		if _, _, err := ParseShard(bad); err == nil || !strings.Contains(err.Error(), "want i/n with 1 <= i <= n") {
			t.Errorf("ParseShard(%q) = %v", bad, err)
		}
	}
}

func sampleSummary() *Summary {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	passed := &report.Result{Scenario: "s.star", Runner: "host", Started: start, Outcome: report.OutcomePassed,
		Expectations: []report.ExpectResult{{ID: "e1", Name: "liveness", Passed: true}}}
	failed := &report.Result{Scenario: "s.star", Runner: "host", Started: start, Outcome: report.OutcomeFailed,
		Error:        "1 expectation failed",
		Expectations: []report.ExpectResult{{ID: "e1", Name: "liveness", Passed: false, Message: "height 0 < 3 & <bad>\nmore"}}}
	return &Summary{Scenario: "s.star", Seed: 1, Runners: []string{"host", "compose"}, Started: start, Seconds: 12.5, ExitCode: 6,
		Jobs: []JobResult{
			{Job: Job{ID: "host-v=1", Index: 0, Runner: "host", Params: []Param{{"v", "1"}}}, Outcome: report.OutcomePassed, Seconds: 3, Result: passed, Dir: "jobs/host-v=1"},
			{Job: Job{ID: "host-v=3", Index: 1, Runner: "host", Params: []Param{{"v", "3"}}}, Outcome: report.OutcomeFailed, ExitCode: 5, Seconds: 4, Result: failed, Error: failed.Error},
			{Job: Job{ID: "compose-v=1", Index: 2, Runner: "compose", Params: []Param{{"v", "1"}}}, Outcome: report.OutcomeError, ExitCode: 6,
				Error: `unknown runner "compose"; want one of host`},
			{Job: Job{ID: "compose-v=3", Index: 3, Runner: "compose", Params: []Param{{"v", "3"}}}, Outcome: OutcomeSkipped, Error: "skipped after a failure (--fail-fast)"},
		}}
}

func TestSummaryTableAndJUnit(t *testing.T) {
	s := sampleSummary()
	var tab bytes.Buffer
	if err := s.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"host-v=1     passed", "1 expectations passed", "e1 liveness: height 0 < 3 & <bad>", `unknown runner "compose"; want one of host`,
		"4 jobs: 1 passed, 1 failed, 1 error, 1 skipped in 12.5s (exit 6)"} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
	doc := s.junit()
	if len(doc.Suites) != 4 || doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 {
		t.Fatalf("junit: %d suites, %d tests, %d failures, %d errors", len(doc.Suites), doc.Tests, doc.Failures, doc.Errors)
	}
	if doc.Suites[3].Skipped != 1 || doc.Suites[3].Cases[0].Skipped == nil {
		t.Errorf("skipped job: %+v", doc.Suites[3])
	}
	if doc.Suites[1].Cases[0].Failure == nil || doc.Suites[1].Cases[0].Classname != "host-v=3" {
		t.Errorf("failed job: %+v", doc.Suites[1].Cases[0])
	}
}

// TestJUnitValidates checks junit.xml against the JUnit schema of the
// Jenkins xUnit plugin (testdata/junit-10.xsd) with xmllint.
func TestJUnitValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	testenv.Require(t, "xmllint (Debian package libxml2-utils)", err)
	dir := t.TempDir()
	if err := sampleSummary().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", filepath.Join(dir, "junit.xml")).CombinedOutput()
	if err != nil {
		t.Fatalf("junit.xml does not validate: %v\n%s", err, out)
	}
	// A document the schema rejects proves the validator checks something.
	bad := filepath.Join(dir, "bad.xml")
	os.WriteFile(bad, []byte(`<testsuites><testsuite name="x"><testcase/></testsuite></testsuites>`), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", bad).CombinedOutput(); err == nil {
		t.Fatalf("xmllint accepted an invalid document:\n%s", out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil || !strings.Contains(string(html), `<a href="jobs/host-v=1/report.html">host-v=1</a>`) {
		t.Errorf("index.html: %v\n%s", err, html)
	}
	var sum bytes.Buffer
	if err := sampleSummary().WriteJSON(&sum); err != nil || !strings.Contains(sum.String(), `"id": "compose-v=3"`) {
		t.Errorf("summary.json: %v\n%s", err, sum.String())
	}
}

package report

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nomosrun/nomosrun/engine/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sec(s float64) plan.Duration { return plan.Duration(s * float64(time.Second)) }

// sample is a failed run with two nodes, a partition and three expectations.
func sample() *Result {
	return &Result{
		Scenario: "partition.star", Seed: 42, Runner: "host",
		Started:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Duration: sec(40), Outcome: OutcomeFailed,
		Error:          "expectations failed:\ne2 consensus_agreement: consensus agreement violated:\n- validator-0 and validator-1 disagree on the LIB at height 9: aaaaaaaaaaaa vs bbbbbbbbbbbb",
		ExpectedBlocks: 18,
		Nodes: []NodeResult{
			{Name: "validator-0", Role: plan.RoleValidator, Height: 20, LIB: strings.Repeat("a", 64), Tip: strings.Repeat("c", 64), Mode: "Online"},
			{Name: "validator-1", Role: plan.RoleValidator, Height: 19, LIB: strings.Repeat("b", 64), Tip: strings.Repeat("d", 64), Mode: "Online"},
		},
		Expectations: []ExpectResult{
			{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Pos: "partition.star:9:16", Passed: true, Duration: sec(0.1),
				Summary: "network +18 blocks in the window, target 15", Evidence: map[string]any{"target": 15.0, "network_gained": 18.0}},
			{ID: "e2", Kind: plan.ExpectAgreement, Name: "consensus_agreement", Pos: "partition.star:10:27", Duration: sec(0.2),
				Message: "consensus agreement violated:\n- validator-0 and validator-1 disagree on the LIB at height 9: aaaaaaaaaaaa vs bbbbbbbbbbbb"},
			{ID: "e3", Kind: plan.ExpectTxInclusion, Name: "tx_inclusion", Pos: "partition.star:5:13", Passed: true, Duration: sec(1)},
		},
		Workloads: []WorkloadResult{{ID: "w1", Kind: plan.WorkloadTransactions, Counts: map[string]int{"planned": 18, "submitted": 18, "failed": 0}}},
		Chain:     ChainStats{Height: 20, Blocks: 20, Orphaned: 2, Transactions: 18},
		Timeline: []TimelineEvent{
			{At: sec(0), Kind: "phase", Name: "deploy"},
			{At: sec(2), Kind: "phase", Name: "drive"},
			{At: sec(7), Kind: "fault_start", Name: "f1", Detail: "partition"},
			{At: sec(17), Kind: "fault_heal", Name: "f1", Detail: "partition"},
			{At: sec(25), Kind: TimelineRestart, Name: "w2", Nodes: []string{"validator-1"}},
		},
		Faults: []FaultWindow{{ID: "f1", Kind: plan.FaultPartition, Targets: []string{"validator-0", "validator-1"}, Start: sec(7), End: sec(17)}},
		Heights: []HeightSample{
			{Node: "validator-0", At: sec(2), Height: 1}, {Node: "validator-1", At: sec(2), Height: 1},
			{Node: "validator-0", At: sec(20), Height: 10, LIB: 5}, {Node: "validator-1", At: sec(20), Height: 8, LIB: 3},
			{Node: "validator-0", At: sec(38), Height: 20, LIB: 15}, {Node: "validator-1", At: sec(38), Height: 19, LIB: 14},
		},
	}
}

func TestJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("report.json differs from %s (-want +got):\n%s", golden, d)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sample(), back); d != "" {
		t.Errorf("JSON round trip changed the result:\n%s", d)
	}
}

func TestJUnitWellFormed(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) {
		t.Error("missing XML header")
	}
	var got JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, buf.String())
	}
	s := got.Suites[0]
	if s.Tests != 3 || s.Failures != 1 || s.Errors != 0 || len(s.Cases) != 3 {
		t.Fatalf("suite = %+v, want 3 tests, 1 failure", s)
	}
	f := s.Cases[1].Failure
	if s.Cases[1].Name != "e2 consensus_agreement" || f == nil || f.Message != "consensus agreement violated:" ||
		!strings.Contains(f.Text, "disagree on the LIB at height 9") || s.Cases[0].Failure != nil {
		t.Errorf("cases = %+v", s.Cases)
	}
	if out := s.Cases[0].SystemOut; !strings.Contains(out, "network +18 blocks in the window, target 15") ||
		!strings.Contains(out, `"network_gained": 18`) {
		t.Errorf("passing case's system-out lacks its evidence:\n%s", out)
	}
	if d := cmp.Diff(JUnit(sample()), got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".XMLName" }, cmp.Ignore())); d != "" {
		t.Errorf("XML round trip differs:\n%s", d)
	}

	r := sample()
	r.Outcome, r.Expectations, r.Error = OutcomeError, nil, "readiness: timed out waiting for HTTP readiness"
	buf.Reset()
	WriteJUnit(&buf, r)
	var errDoc JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &errDoc); err != nil {
		t.Fatal(err)
	}
	if c := errDoc.Suites[0].Cases; len(c) != 1 || c[0].Error == nil || c[0].Error.Type != "error" {
		t.Errorf("infrastructure error cases = %+v, want one errored testcase", c)
	}
}

func TestHTMLHasChartAndFaultWindows(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	heights, libs := svgOf(t, html, "height-chart"), svgOf(t, html, "lib-chart")
	if n := strings.Count(heights, `class="height-line"`); n != 2 {
		t.Errorf("height lines = %d, want one per node (2)", n)
	}
	if n := strings.Count(libs, `class="height-line"`); n != 2 {
		t.Errorf("LIB lines = %d, want one per node (2)", n)
	}
	// The restart of validator-1 at 25 s is marked on its line in both charts.
	m0 := regexp.MustCompile(`<circle class="event-marker" cx="([0-9.]+)"[^>]*><title>restart w2  on validator-1 at 25s</title>`)
	if m := m0.FindStringSubmatch(heights); m == nil || m[1] != "500.0" {
		t.Errorf("restart marker in the height chart = %v, want one at x=500.0", m)
	}
	if !m0.MatchString(libs) {
		t.Error("the LIB chart lacks the restart marker")
	}
	html = strings.Replace(html, libs, "", 1) // the checks below read the height chart
	// The partition runs from 7 s to 17 s of a 40 s chart 720 px wide from x=50.
	m := regexp.MustCompile(`<rect class="fault-window" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindStringSubmatch(html)
	if m == nil || m[1] != "176.0" || m[2] != "180.0" {
		t.Errorf("fault window = %v, want x=176.0 width=180.0", m)
	}
	if n := strings.Count(html, `class="phase-marker"`); n != 1 {
		t.Errorf("phase markers = %d, want 1 (drive)", n)
	}
	for _, want := range []string{"<svg", "f1 partition validator-0,validator-1", "disagree on the LIB", "partition.star",
		"18 blocks in the window, target 15", `&#34;network_gained&#34;: 18`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, banned := range []string{"<script src", "<link ", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), banned) {
			t.Errorf("HTML references an external asset (%q)", banned)
		}
	}
}

func TestTextSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"FAILED  partition.star  (runner host, seed 42, 40s)",
		"  FAIL e2   consensus_agreement  (partition.star:10:27)\n         consensus agreement violated:\n         - validator-0 and validator-1 disagree",
		"  ok   e1   liveness",
		"w1   transactions   failed=0 planned=18 submitted=18",
		"chain: height 20, 20 blocks, 2 orphaned, 18 transactions",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDir(sample(), dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.json", "junit.xml", "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// svgOf returns the SVG element with the given id.
func svgOf(t *testing.T, html, id string) string {
	t.Helper()
	i := strings.Index(html, `<svg id="`+id+`"`)
	if i < 0 {
		t.Fatalf("HTML lacks the %s SVG", id)
	}
	return html[i : i+strings.Index(html[i:], "</svg>")+len("</svg>")]
}

func TestLineLabelsDoNotOverlap(t *testing.T) {
	lines := []line{{Node: "validator-0", LabelY: 40}, {Node: "validator-1", LabelY: 40}, {Node: "validator-2", LabelY: 45}, {Node: "executor-0", LabelY: 200}}
	spreadLabels(lines)
	got := []float64{lines[0].LabelY, lines[1].LabelY, lines[2].LabelY, lines[3].LabelY}
	if want := []float64{40, 52, 64, 200}; !slices.Equal(got, want) {
		t.Errorf("label y = %v, want %v (12 px apart, order kept, far labels untouched)", got, want)
	}
}

func TestHTMLPlotsRecordedSeriesAndHookLag(t *testing.T) {
	r := sample()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "series-chart") || strings.Contains(buf.String(), "<h2>Hooks</h2>") {
		t.Error("a run without hooks shows a series chart or a hooks table")
	}
	r.Series = []Series{{Name: "fork_depth", Points: []SeriesPoint{
		{At: plan.Duration(10 * time.Second), Value: 0}, {At: plan.Duration(20 * time.Second), Value: 3.5}}}}
	r.Hooks = &HookStats{Hooks: []HookCalls{{ID: "h1", Kind: plan.HookOnBlock, Func: "watch", Pos: "s.star:3:1", Calls: 17}},
		MaxLag: plan.Duration(1500 * time.Millisecond), MaxLagBlocks: 1}
	buf.Reset()
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	series := svgOf(t, html, "series-chart")
	// 10 s and 20 s of a 40 s chart 720 px wide from x=50; 0 and 3.5 span the
	// plot from y=285 to y=15.
	if !strings.Contains(series, `points="230.0,285.0 410.0,15.0"`) || !strings.Contains(series, ">fork_depth</text>") {
		t.Errorf("series chart lacks the fork_depth line:\n%s", series)
	}
	for _, want := range []string{"h1 on_block watch", "<td>17</td>", "lagged the feed by at most 1.5s (1 blocks)"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var text strings.Builder
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hooks (on_block lagged the feed by at most 1.5s, 1 blocks):", "h1   on_block watch", "17 calls",
		"series fork_depth: 2 values, last 3.5 at 20s"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.String())
		}
	}
}

package main

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nomosrun/nomosrun/internal/otlp/otlptest"
	"github.com/nomosrun/nomosrun/runners/kernelnet"
)

// otlpScenario has a workload, a fault window and two metric
// expectations, the second failing (so the run exits 5).
const otlpScenario = "testdata/e2e/otlp.star"

// TestOTLPRun runs a scenario on the host runner with both OTLP variables
// pointing at a receiver started here, and checks what arrives: the run's
// trace (run, phases, fault, workload, expectations, with positions and
// verdicts), the nodes' block spans and the nodes' metrics.
// In netns mode the nodes reach the receiver, which listens on the
// machine's loopback only, through the runner's forwarding.
func TestOTLPRun(t *testing.T) {
	needBinary(t)
	t.Run("loopback", func(t *testing.T) { checkOTLPRun(t, "loopback") })
	t.Run("netns", func(t *testing.T) {
		if err := kernelnet.Available(); err != nil {
			t.Skipf("no network namespaces here: %v", err)
		}
		checkOTLPRun(t, "netns")
	})
}

func checkOTLPRun(t *testing.T, network string) {
	rcv := otlptest.Start(t)
	r := runCLI(t, 3*time.Minute, []string{
		"NOMOS_OTLP_ENDPOINT=" + rcv.URL, "NOMOS_OTLP_METRICS_ENDPOINT=" + rcv.URL,
		"OTEL_METRIC_EXPORT_INTERVAL=1000", "NOMOS_HOST_NETWORK=" + network,
	}, "run", otlpScenario, "--run-dir", t.TempDir())
	if r.code != int(ExitExpectations) {
		t.Fatalf("exit %d, want %d (one expectation fails)\n%s\n%s", r.code, ExitExpectations, r.stdout, r.stderr)
	}
	if errs := rcv.Errors(); len(errs) > 0 {
		t.Fatalf("the receiver could not decode %d requests: %v", len(errs), errs)
	}
	var runSpans []otlptest.Span
	nodeSpans := map[string]int{} // service -> block spans
	for _, s := range rcv.Spans() {
		switch {
		case s.Service == "nomosrun":
			runSpans = append(runSpans, s)
		case strings.HasPrefix(s.Name, "block "):
			nodeSpans[s.Service]++
		}
	}
	byName := map[string]otlptest.Span{}
	for _, s := range runSpans {
		byName[s.Name] = s
	}
	root, ok := byName["run "+otlpScenario]
	if !ok {
		t.Fatalf("no run span among %d spans of nomosrun: %v\n%s", len(runSpans), names(runSpans), r.stderr)
	}
	if len(root.ParentSpanId) != 0 {
		t.Errorf("the run span has a parent")
	}
	if got := root.Attr("nomosrun.verdict"); got != "failed" {
		t.Errorf("run verdict %q, want failed", got)
	}
	if !strings.Contains(r.stderr, "trace "+hex.EncodeToString(root.TraceId)+" sent to "+rcv.URL+"/v1/traces") {
		t.Errorf("stderr does not name the trace %x:\n%s", root.TraceId, r.stderr)
	}
	for _, s := range runSpans {
		if !bytes.Equal(s.TraceId, root.TraceId) {
			t.Errorf("span %q is in another trace", s.Name)
		}
	}
	for _, ph := range []string{"prepare", "deploy", "readiness", "capture", "drive", "cooldown", "settle", "evaluate", "report"} {
		s, ok := byName["phase "+ph]
		switch {
		case !ok:
			t.Errorf("no span for phase %s", ph)
		case !bytes.Equal(s.ParentSpanId, root.SpanId):
			t.Errorf("phase %s is not a child of the run span", ph)
		}
	}
	drive, evaluate := byName["phase drive"], byName["phase evaluate"]

	fault, ok := byName["fault isolate f1"]
	switch {
	case !ok:
		t.Errorf("no span for the fault window f1: %v", names(runSpans))
	case !bytes.Equal(fault.ParentSpanId, drive.SpanId):
		t.Errorf("the fault span is not under the drive phase")
	case fault.Attr("nomosrun.position") != otlpScenario+":6:8":
		t.Errorf("fault position %q, want %s:6:8", fault.Attr("nomosrun.position"), otlpScenario)
	case fault.EndTimeUnixNano-fault.StartTimeUnixNano < uint64(time.Second):
		t.Errorf("the fault window lasted %s, want about 2s", time.Duration(fault.EndTimeUnixNano-fault.StartTimeUnixNano))
	}
	if w, ok := byName["workload transactions w1"]; !ok || w.Attr("nomosrun.position") != otlpScenario+":5:13" ||
		!bytes.Equal(w.ParentSpanId, drive.SpanId) || w.Attr("nomosrun.count.submitted") == "" {
		t.Errorf("workload span: %v (found %v)", w.Span, ok)
	}
	for name, want := range map[string][2]string{
		"expect metric min(cryptarchia_tip_height) >= 1":     {"passed", ":7:14"},
		"expect metric max(cryptarchia_tip_height) > 100000": {"failed", ":8:14"},
	} {
		s, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("no span %q among %v", name, names(runSpans))
		case s.Attr("nomosrun.verdict") != want[0]:
			t.Errorf("%s: verdict %q, want %s", name, s.Attr("nomosrun.verdict"), want[0])
		case s.Attr("nomosrun.position") != otlpScenario+want[1] || s.Attr("code.line.number") == "":
			t.Errorf("%s: position %q, want %s%s", name, s.Attr("nomosrun.position"), otlpScenario, want[1])
		case !bytes.Equal(s.ParentSpanId, evaluate.SpanId):
			t.Errorf("%s is not under the evaluate phase", name)
		}
	}

	for _, node := range []string{"validator-0", "validator-1"} {
		if nodeSpans[node] == 0 {
			t.Errorf("no block spans from %s (block spans by service: %v)", node, nodeSpans)
		}
	}
	metrics := map[string]bool{}
	for _, m := range rcv.Metrics() {
		metrics[m.Service+" "+m.Name] = true
	}
	for _, want := range []string{"validator-0 cryptarchia_tip_height", "validator-1 cryptarchia_blocks_produced_total"} {
		if !metrics[want] {
			t.Errorf("metric %q did not arrive (got %d series)", want, len(metrics))
		}
	}
}

// TestOTLPMatrix runs a matrix of two jobs: each job is a trace of its
// own, named by its job id.
func TestOTLPMatrix(t *testing.T) {
	needBinary(t)
	rcv := otlptest.Start(t)
	r := runCLI(t, 3*time.Minute, []string{"NOMOS_OTLP_ENDPOINT=" + rcv.URL, "NOMOS_OTLP_METRICS_ENDPOINT=", "NOMOS_HOST_NETWORK=loopback"},
		"matrix", "testdata/e2e/matrix.star", "--parallel", "2", "--run-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	traces := map[string]string{} // job -> trace id
	for _, s := range rcv.Spans() {
		if s.Service == "nomosrun" && s.Name == "run testdata/e2e/matrix.star" {
			traces[s.Attr("nomosrun.matrix.job")] = hex.EncodeToString(s.TraceId)
		}
	}
	for _, job := range []string{"host-validators=2-slot=400ms", "host-validators=2-slot=500ms"} {
		id, ok := traces[job]
		switch {
		case !ok:
			t.Errorf("no run span for job %s (have %v)", job, traces)
		case !strings.Contains(r.stderr, "job "+job+": trace "+id+" sent to "):
			t.Errorf("the output does not name the trace %s of job %s:\n%s", id, job, r.stderr)
		}
	}
	if len(traces) == 2 && traces["host-validators=2-slot=400ms"] == traces["host-validators=2-slot=500ms"] {
		t.Errorf("both jobs are in one trace")
	}
}

// TestOTLPUnset runs the same scenario with the OTLP variables empty while
// a receiver listens on the exporters' default port (4318): nothing may
// connect to it and nothing about telemetry may be printed.
func TestOTLPUnset(t *testing.T) {
	needBinary(t)
	rcv, err := otlptest.Listen("127.0.0.1:4318")
	if err != nil {
		if _, ok := err.(*net.OpError); ok {
			t.Skipf("the default OTLP port is taken: %v", err)
		}
		t.Fatal(err)
	}
	defer rcv.Close()
	dir := t.TempDir()
	r := runCLI(t, 3*time.Minute, []string{
		"NOMOS_OTLP_ENDPOINT=", "NOMOS_OTLP_METRICS_ENDPOINT=", "NOMOS_METRICS_OTLP_INGEST_URL=",
		"OTEL_METRIC_EXPORT_INTERVAL=100", "NOMOS_HOST_NETWORK=loopback",
	}, "run", otlpScenario, "--run-dir", dir)
	if r.code != int(ExitExpectations) {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitExpectations, r.stderr)
	}
	if n := rcv.Connections(); n != 0 {
		t.Errorf("%d connections to the default OTLP port with the variables unset", n)
	}
	out := strings.ReplaceAll(r.stdout+r.stderr, otlpScenario, "")
	logs, err := filepath.Glob(filepath.Join(dir, "logs", "*"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no node logs in %s: %v", dir, err)
	}
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		out += string(data)
	}
	out = strings.ReplaceAll(out, dir, "") // the test's name is in it
	for _, word := range []string{"otlp", "opentelemetry", "trace "} {
		if strings.Contains(strings.ToLower(out), word) {
			t.Errorf("output or node logs mention %q with the variables unset:\n%s", word, out)
		}
	}
}

func names(spans []otlptest.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

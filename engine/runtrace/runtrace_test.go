package runtrace_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
	"github.com/nomosrun/nomosrun/engine/runtrace"
)

func sec(s float64) plan.Duration { return plan.Duration(s * float64(time.Second)) }

// fixture is a failed run: phases, a fault window, a skipped fault, a load
// and a chaos workload, two expectations (the second failing).
func fixture() (*plan.Plan, *report.Result) {
	pos := func(line int32) plan.Pos { return plan.Pos{File: "s.star", Line: line, Col: 1} }
	p := &plan.Plan{
		Workloads: []plan.Workload{{ID: "w1", Kind: plan.WorkloadTransactions, Pos: pos(3)}, {ID: "w2", Kind: plan.WorkloadChaosRestart, Pos: pos(4)}},
		Faults:    []plan.Fault{{ID: "f1", Kind: plan.FaultIsolate, Pos: pos(5)}, {ID: "f2", Kind: plan.FaultPause, Pos: pos(6)}},
		Expectations: []plan.Expectation{{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Pos: pos(7)},
			{ID: "e2", Kind: plan.ExpectMetric, Name: "metric up", Pos: pos(8)}},
	}
	var tl []report.TimelineEvent
	for i, ph := range []run.Phase{run.PhasePrepare, run.PhaseDeploy, run.PhaseReadiness, run.PhaseCapture, run.PhaseDrive,
		run.PhaseCooldown, run.PhaseSettle, run.PhaseEvaluate, run.PhaseReport, run.PhaseTeardown} {
		tl = append(tl, report.TimelineEvent{At: sec(float64(i * 10)), Kind: "phase", Name: string(ph)})
	}
	tl = append(tl, report.TimelineEvent{At: sec(45), Kind: string(run.EventFaultSkipped), Name: "f2", Detail: "pause: no node left"})
	res := &report.Result{
		Scenario: "s.star", Runner: "host", Seed: 7, Started: time.Unix(1000, 0), Duration: sec(100),
		Outcome: report.OutcomeFailed, Error: "1 expectation failed", Timeline: tl,
		Faults:    []report.FaultWindow{{ID: "f1", Kind: plan.FaultIsolate, Targets: []string{"validator-1"}, Start: sec(42), End: sec(44)}},
		Workloads: []report.WorkloadResult{{ID: "w1", Kind: plan.WorkloadTransactions, Counts: map[string]int{"submitted": 9}}, {ID: "w2", Kind: plan.WorkloadChaosRestart}},
		Expectations: []report.ExpectResult{{ID: "e1", Kind: plan.ExpectLiveness, Name: "liveness", Passed: true, Duration: sec(1)},
			{ID: "e2", Kind: plan.ExpectMetric, Name: "metric up", Passed: false, Message: "0 < 1", Duration: sec(2)}},
	}
	return p, res
}

func TestExport(t *testing.T) {
	p, res := fixture()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	var rec runtrace.Recorder
	rec.Observe(run.Event{Kind: run.EventExpectation, ID: "e1", At: 73 * time.Second})
	rec.Observe(run.Event{Kind: run.EventPhase, Phase: run.PhaseDrive, At: time.Hour}) // ignored
	id := rec.Export(context.Background(), tp.Tracer("test"), p, res)

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		spans[s.Name()] = s
	}
	if len(spans) != 1+10+2+2+2 {
		t.Errorf("%d spans, want 17: %v", len(spans), keys(spans))
	}
	root := spans["run s.star"]
	if root == nil || root.SpanContext().TraceID() != id || root.Parent().IsValid() {
		t.Fatalf("run span %v, trace %s", root, id)
	}
	if attr(root, "nomosrun.verdict") != "failed" || root.Status().Code != codes.Error || attr(root, "nomosrun.seed") != "7" {
		t.Errorf("run span: verdict %q, status %v, seed %q", attr(root, "nomosrun.verdict"), root.Status(), attr(root, "nomosrun.seed"))
	}
	t0 := res.Started
	span := func(name string, parent string, start, end float64) sdktrace.ReadOnlySpan {
		t.Helper()
		s := spans[name]
		switch {
		case s == nil:
			t.Errorf("no span %q among %v", name, keys(spans))
			return nil
		case s.Parent().SpanID() != spans[parent].SpanContext().SpanID():
			t.Errorf("%s: parent is not %s", name, parent)
		case !s.StartTime().Equal(t0.Add(sec(start).Std())) || !s.EndTime().Equal(t0.Add(sec(end).Std())):
			t.Errorf("%s: %s..%s, want %gs..%gs", name, s.StartTime().Sub(t0), s.EndTime().Sub(t0), start, end)
		}
		return s
	}
	span("phase drive", "run s.star", 40, 50)
	span("phase teardown", "run s.star", 90, 100)
	if s := span("fault isolate f1", "phase drive", 42, 44); s != nil && attr(s, "nomosrun.position") != "s.star:5:1" {
		t.Errorf("fault position %q", attr(s, "nomosrun.position"))
	}
	if s := span("fault skipped f2", "phase drive", 45, 45); s != nil && s.Status().Code != codes.Error {
		t.Errorf("skipped fault status %v", s.Status())
	}
	// Load runs through the cooldown; chaos ends with the window.
	if s := span("workload transactions w1", "phase drive", 40, 60); s != nil && attr(s, "nomosrun.count.submitted") != "9" {
		t.Errorf("workload counts: %v", s.Attributes())
	}
	span("workload chaos_restart w2", "phase drive", 40, 50)
	// e1 ended when its event says; e2 had no event: the evaluate phase's end.
	if s := span("expect liveness", "phase evaluate", 72, 73); s != nil &&
		(attr(s, "nomosrun.verdict") != "passed" || attr(s, "code.line.number") != "7" || s.Status().Code != codes.Ok) {
		t.Errorf("e1: %v %v", s.Attributes(), s.Status())
	}
	if s := span("expect metric up", "phase evaluate", 78, 80); s != nil &&
		(attr(s, "nomosrun.verdict") != "failed" || s.Status().Description != "0 < 1") {
		t.Errorf("e2: %v %v", s.Attributes(), s.Status())
	}
}

// TestExportEarlyFailure exports a run that failed while deploying: no
// drive, so no workload spans, and the run ends in error.
func TestExportEarlyFailure(t *testing.T) {
	p, _ := fixture()
	res := &report.Result{Scenario: "s.star", Started: time.Unix(1000, 0), Duration: sec(3), Outcome: report.OutcomeError,
		Error: "deploy: no docker", Timeline: []report.TimelineEvent{{Kind: "phase", Name: "prepare"}, {At: sec(1), Kind: "phase", Name: "deploy"}},
		Workloads: []report.WorkloadResult{{ID: "w1", Kind: plan.WorkloadTransactions}}}
	sr := tracetest.NewSpanRecorder()
	var rec runtrace.Recorder
	rec.Export(context.Background(), sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)).Tracer("test"), p, res)
	var names []string
	for _, s := range sr.Ended() {
		names = append(names, s.Name())
		if s.Name() == "run s.star" && (attr(s, "nomosrun.verdict") != "error" || attr(s, "nomosrun.error") != "deploy: no docker") {
			t.Errorf("run span attributes %v", s.Attributes())
		}
	}
	if len(names) != 3 {
		t.Errorf("spans %v, want the run and its two phases", names)
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}

func keys(m map[string]sdktrace.ReadOnlySpan) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

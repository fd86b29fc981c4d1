// Package runtrace exports a run as an OpenTelemetry trace: a span for the
// run, ending with its verdict, and under it a span per lifecycle phase;
// under the phases a span per fault window, workload and expectation, each
// with its position in the scenario. The spans are built after the run
// from its report (which holds every time the trace needs), plus the end
// of each expectation's evaluation, which the Recorder sees in the run's
// progress events.
package runtrace

import (
	"context"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nomosrun/nomosrun/engine/plan"
	"github.com/nomosrun/nomosrun/engine/report"
	"github.com/nomosrun/nomosrun/engine/run"
)

// Attribute keys of the spans. A scenario position is also given as the
// OpenTelemetry code.* attributes, so trace viewers can link to the script.
const (
	KeyScenario = attribute.Key("nomosrun.scenario")
	KeyRunner   = attribute.Key("nomosrun.runner")
	KeySeed     = attribute.Key("nomosrun.seed")
	KeyVerdict  = attribute.Key("nomosrun.verdict") // the run's outcome, or passed/failed for an expectation
	KeyError    = attribute.Key("nomosrun.error")
	KeyPhase    = attribute.Key("nomosrun.phase")
	KeyID       = attribute.Key("nomosrun.id") // the plan's id of a fault, workload or expectation
	KeyKind     = attribute.Key("nomosrun.kind")
	KeyName     = attribute.Key("nomosrun.name")
	KeyPosition = attribute.Key("nomosrun.position") // file:line:col in the scenario
	KeyTargets  = attribute.Key("nomosrun.targets")
	KeyVia      = attribute.Key("nomosrun.via")
	KeyHeight   = attribute.Key("nomosrun.chain.height")
	KeyJob      = attribute.Key("nomosrun.matrix.job") // a matrix job's id

	keyCodeFile   = attribute.Key("code.file.path")
	keyCodeLine   = attribute.Key("code.line.number")
	keyCodeColumn = attribute.Key("code.column.number")
)

// Recorder collects, from a run's progress events, what its report does not
// keep. Its zero value is ready to use; Observe may be called from any
// goroutine.
type Recorder struct {
	mu   sync.Mutex
	ends map[string]time.Duration // expectation id -> end of its evaluation
}

// Observe records one progress event; pass it every event of the run.
func (r *Recorder) Observe(ev run.Event) {
	if ev.Kind != run.EventExpectation {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ends == nil {
		r.ends = map[string]time.Duration{}
	}
	r.ends[ev.ID] = ev.At
}

// Export writes the run of plan p with result res as one trace with tracer
// and returns its trace id. The run's span also gets attrs (a matrix job's
// id, say).
func (r *Recorder) Export(ctx context.Context, tracer trace.Tracer, p *plan.Plan, res *report.Result, attrs ...attribute.KeyValue) trace.TraceID {
	r.mu.Lock()
	defer r.mu.Unlock()
	t0 := res.Started
	end := t0.Add(res.Duration.Std())
	at := func(d time.Duration) trace.SpanStartEventOption { return trace.WithTimestamp(t0.Add(d)) }

	ctx, root := tracer.Start(ctx, "run "+res.Scenario, trace.WithTimestamp(t0), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyScenario.String(res.Scenario), KeyRunner.String(res.Runner), KeySeed.Int64(res.Seed)),
		trace.WithAttributes(attrs...))
	phases := phaseWindows(res, res.Duration.Std())
	phaseCtx := map[run.Phase]context.Context{}
	phaseSpans := make([]trace.Span, len(phases))
	for i, w := range phases {
		pctx, s := tracer.Start(ctx, "phase "+string(w.phase), at(w.start), trace.WithAttributes(KeyPhase.String(string(w.phase))))
		phaseCtx[w.phase], phaseSpans[i] = pctx, s
	}
	parent := func(ph run.Phase) context.Context {
		if c, ok := phaseCtx[ph]; ok {
			return c
		}
		return ctx
	}

	for _, f := range res.Faults {
		attrs := []attribute.KeyValue{KeyID.String(f.ID), KeyKind.String(string(f.Kind)), KeyTargets.StringSlice(f.Targets)}
		if f.Via != "" {
			attrs = append(attrs, KeyVia.String(string(f.Via)))
		}
		attrs = append(attrs, position(p.PosOf(f.ID))...)
		_, s := tracer.Start(parent(run.PhaseDrive), "fault "+string(f.Kind)+" "+f.ID, at(f.Start.Std()), trace.WithAttributes(attrs...))
		if f.Error != "" {
			s.SetStatus(codes.Error, f.Error)
		}
		s.End(trace.WithTimestamp(t0.Add(f.End.Std())))
	}
	for _, ev := range res.Timeline {
		if ev.Kind != string(run.EventFaultSkipped) {
			continue
		}
		attrs := append([]attribute.KeyValue{KeyID.String(ev.Name), KeyTargets.StringSlice(ev.Nodes)}, position(p.PosOf(ev.Name))...)
		_, s := tracer.Start(parent(run.PhaseDrive), "fault skipped "+ev.Name, at(ev.At.Std()), trace.WithAttributes(attrs...))
		s.SetStatus(codes.Error, ev.Detail)
		s.End(trace.WithTimestamp(t0.Add(ev.At.Std())))
	}

	if drive, ok := find(phases, run.PhaseDrive); ok {
		loadEnd := drive.end
		if cool, ok := find(phases, run.PhaseCooldown); ok {
			loadEnd = cool.end
		}
		for _, w := range res.Workloads {
			stop := loadEnd
			if w.Kind.Disrupts() {
				stop = drive.end // faults and chaos end with the run window
			}
			attrs := []attribute.KeyValue{KeyID.String(w.ID), KeyKind.String(string(w.Kind))}
			for _, k := range sortedKeys(w.Counts) {
				attrs = append(attrs, attribute.Int("nomosrun.count."+k, w.Counts[k]))
			}
			attrs = append(attrs, position(p.PosOf(w.ID))...)
			_, s := tracer.Start(parent(run.PhaseDrive), "workload "+string(w.Kind)+" "+w.ID, at(drive.start), trace.WithAttributes(attrs...))
			if w.Error != "" {
				s.SetStatus(codes.Error, w.Error)
			}
			s.End(trace.WithTimestamp(t0.Add(stop)))
		}
	}

	evalEnd := res.Duration.Std()
	if ev, ok := find(phases, run.PhaseEvaluate); ok {
		evalEnd = ev.end
	}
	for _, e := range res.Expectations {
		stop, ok := r.ends[e.ID]
		if !ok {
			stop = evalEnd
		}
		verdict := "passed"
		if !e.Passed {
			verdict = "failed"
		}
		attrs := []attribute.KeyValue{KeyID.String(e.ID), KeyKind.String(string(e.Kind)), KeyName.String(e.Name), KeyVerdict.String(verdict)}
		attrs = append(attrs, position(p.PosOf(e.ID))...)
		_, s := tracer.Start(parent(run.PhaseEvaluate), "expect "+e.Name, at(stop-e.Duration.Std()), trace.WithAttributes(attrs...))
		if e.Passed {
			s.SetStatus(codes.Ok, "")
		} else {
			s.SetStatus(codes.Error, e.Message)
		}
		s.End(trace.WithTimestamp(t0.Add(stop)))
	}

	root.SetAttributes(KeyVerdict.String(res.Outcome), KeyHeight.Int64(int64(res.Chain.Height)))
	if res.Outcome == report.OutcomePassed {
		root.SetStatus(codes.Ok, "")
	} else {
		root.SetAttributes(KeyError.String(res.Error))
		root.SetStatus(codes.Error, res.Outcome+": "+res.Error)
	}
	for i, s := range phaseSpans {
		s.End(trace.WithTimestamp(t0.Add(phases[i].end)))
	}
	root.End(trace.WithTimestamp(end))
	return root.SpanContext().TraceID()
}

// window is one phase's time span, as offsets from the run's start.
type window struct {
	phase      run.Phase
	start, end time.Duration
}

// phaseWindows reads the phases from the timeline: each lasts until the
// next one starts, the last until the run ends.
func phaseWindows(res *report.Result, total time.Duration) []window {
	var out []window
	for _, ev := range res.Timeline {
		if ev.Kind != string(run.EventPhase) {
			continue
		}
		if n := len(out); n > 0 {
			out[n-1].end = ev.At.Std()
		}
		out = append(out, window{phase: run.Phase(ev.Name), start: ev.At.Std(), end: total})
	}
	return out
}

func find(ws []window, ph run.Phase) (window, bool) {
	for _, w := range ws {
		if w.phase == ph {
			return w, true
		}
	}
	return window{}, false
}

// position gives a scenario position as attributes; none when unknown.
func position(pos plan.Pos) []attribute.KeyValue {
	if pos.IsZero() {
		return nil
	}
	return []attribute.KeyValue{KeyPosition.String(pos.String()), keyCodeFile.String(pos.File),
		keyCodeLine.Int(int(pos.Line)), keyCodeColumn.Int(int(pos.Col))}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
)

// chart geometry of the height-over-time SVG.
const (
	chartW, chartH = 900.0, 320.0
	padL, padR     = 50.0, 130.0
	padT, padB     = 15.0, 35.0
)

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// chart is the data of one inline SVG.
type chart struct {
	ID          string
	W, H        float64
	Lines       []line
	Markers     []marker
	Windows     []window
	Phases      []tick
	XTicks      []tick
	YTicks      []tick
	Left, Right float64
	Top, Bottom float64
	Empty       bool
}

type line struct {
	Node, Color, Points string
	LabelY              float64
}

// marker is a node event (a fault starting or healing on it, a restart)
// drawn on that node's line.
type marker struct {
	X, Y         float64
	Color, Label string
}

type window struct {
	X, W  float64
	Label string
}

type tick struct {
	Pos   float64
	Label string
}

// point is one value of a curve at a time (seconds since the run started).
type point struct{ T, V float64 }

// curve is one named line of a chart: a node's heights or a recorded series.
type curve struct {
	Name   string
	Points []point
}

// heightCurves returns one curve per node of a value of the samples (tip
// or LIB height), in node name order.
func heightCurves(r *Result, value func(HeightSample) uint64) []curve {
	byNode := map[string][]point{}
	for _, s := range r.Heights {
		byNode[s.Node] = append(byNode[s.Node], point{s.At.Std().Seconds(), float64(value(s))})
	}
	return sortedCurves(byNode)
}

// seriesCurves returns the recorded series as curves, in name order.
func seriesCurves(r *Result) []curve {
	byName := map[string][]point{}
	for _, s := range r.Series {
		for _, p := range s.Points {
			byName[s.Name] = append(byName[s.Name], point{p.At.Std().Seconds(), p.Value})
		}
	}
	return sortedCurves(byName)
}

func sortedCurves(m map[string][]point) []curve {
	out := make([]curve, 0, len(m))
	for n, pts := range m {
		out = append(out, curve{n, pts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// valueAt is a curve's value at t: its last point at or before t.
func (c curve) valueAt(t float64) float64 {
	v := c.Points[0].V
	for _, p := range c.Points {
		if p.T > t {
			break
		}
		v = p.V
	}
	return v
}

// buildChart lays out curves over the run's time, shades fault windows and
// marks each node's fault and restart events on the curve of that name.
func buildChart(r *Result, id string, curves []curve) chart {
	c := chart{ID: id, W: chartW, H: chartH, Left: padL, Right: chartW - padR, Top: padT, Bottom: chartH - padB}
	maxT := r.Duration.Std().Seconds()
	minV, maxV := 0.0, 1.0
	for _, cv := range curves {
		for _, p := range cv.Points {
			maxT = max(maxT, p.T)
			minV, maxV = min(minV, p.V), max(maxV, p.V)
		}
	}
	for _, f := range r.Faults {
		maxT = max(maxT, f.End.Std().Seconds())
	}
	if maxT <= 0 {
		maxT = 1
	}
	x := func(sec float64) float64 { return c.Left + sec/maxT*(c.Right-c.Left) }
	y := func(v float64) float64 { return c.Bottom - (v-minV)/(maxV-minV)*(c.Bottom-c.Top) }
	c.Empty = len(curves) == 0
	byName := map[string]curve{}
	colors := map[string]string{}
	for i, cv := range curves {
		var pts []string
		last := 0.0
		for _, p := range cv.Points {
			last = y(p.V)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.T), last))
		}
		byName[cv.Name], colors[cv.Name] = cv, palette[i%len(palette)]
		c.Lines = append(c.Lines, line{Node: cv.Name, Color: colors[cv.Name], Points: strings.Join(pts, " "), LabelY: last})
	}
	spreadLabels(c.Lines)
	for _, ev := range r.Timeline {
		for _, n := range ev.Nodes {
			cv, ok := byName[n]
			if !ok || len(cv.Points) == 0 {
				continue
			}
			at := ev.At.Std().Seconds()
			c.Markers = append(c.Markers, marker{X: x(at), Y: y(cv.valueAt(at)), Color: colors[n],
				Label: fmt.Sprintf("%s %s %s on %s at %s", ev.Kind, ev.Name, ev.Detail, n, round(ev.At))})
		}
	}
	for _, f := range r.Faults {
		x0, x1 := x(f.Start.Std().Seconds()), x(f.End.Std().Seconds())
		c.Windows = append(c.Windows, window{X: x0, W: max(x1-x0, 1), Label: fmt.Sprintf("%s %s %s", f.ID, f.Kind, strings.Join(f.Targets, ","))})
	}
	for _, ev := range r.Timeline {
		if ev.Kind == "phase" && (ev.Name == "drive" || ev.Name == "cooldown" || ev.Name == "evaluate") {
			c.Phases = append(c.Phases, tick{Pos: x(ev.At.Std().Seconds()), Label: ev.Name})
		}
	}
	for i := 0; i <= 5; i++ {
		sec := maxT * float64(i) / 5
		c.XTicks = append(c.XTicks, tick{Pos: x(sec), Label: fmt.Sprintf("%.0fs", sec)})
		v := minV + (maxV-minV)*float64(i)/5
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: strconv.FormatFloat(v, 'g', 4, 64)})
	}
	return c
}

// chartTemplate is one SVG chart: the tip heights, the LIB heights, and
// the series the hooks recorded.
const chartTemplate = `{{define "chart"}}<svg id="{{.C.ID}}" xmlns="http://www.w3.org/2000/svg" width="{{.C.W}}" height="{{.C.H}}" viewBox="0 0 {{.C.W}} {{.C.H}}">
<rect x="{{.C.Left}}" y="{{.C.Top}}" width="{{printf "%.1f" (sub .C.Right .C.Left)}}" height="{{printf "%.1f" (sub .C.Bottom .C.Top)}}" fill="none" stroke="#999"/>
{{range .C.Windows}}<rect class="fault-window" x="{{printf "%.1f" .X}}" y="{{$.C.Top}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" (sub $.C.Bottom $.C.Top)}}"><title>{{.Label}}</title></rect>
{{end}}{{range .C.Phases}}<line class="phase-marker" x1="{{printf "%.1f" .Pos}}" x2="{{printf "%.1f" .Pos}}" y1="{{$.C.Top}}" y2="{{$.C.Bottom}}" stroke="#555" stroke-dasharray="4 3"/><text x="{{printf "%.1f" (add .Pos 3)}}" y="{{printf "%.1f" (add $.C.Top 12)}}" font-size="10" fill="#555">{{.Label}}</text>
{{end}}{{range .C.XTicks}}<text x="{{printf "%.1f" .Pos}}" y="{{printf "%.1f" (add $.C.Bottom 18)}}" font-size="11" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .C.YTicks}}<text x="{{printf "%.1f" (sub $.C.Left 6)}}" y="{{printf "%.1f" .Pos}}" font-size="11" text-anchor="end">{{.Label}}</text>
{{end}}{{range .C.Markers}}<circle class="event-marker" cx="{{printf "%.1f" .X}}" cy="{{printf "%.1f" .Y}}" r="4" fill="white" stroke="{{.Color}}" stroke-width="2"><title>{{.Label}}</title></circle>
{{end}}{{range .C.Lines}}<polyline class="height-line" fill="none" stroke="{{.Color}}" stroke-width="2" points="{{.Points}}"><title>{{.Node}}</title></polyline>
<text x="{{printf "%.1f" (add $.C.Right 6)}}" y="{{printf "%.1f" .LabelY}}" font-size="11" fill="{{.Color}}">{{.Node}}</text>
{{end}}{{if .C.Empty}}<text x="{{printf "%.1f" (add $.C.Left 10)}}" y="{{printf "%.1f" (add $.C.Top 20)}}" font-size="12">no samples</text>{{end}}
</svg>{{end}}`

var page = template.Must(template.Must(template.New("report").Funcs(template.FuncMap{
	"short": short, "counts": counts, "round": round, "evidence": evidenceJSON,
	"chart": func(r *Result, c chart) struct {
		R *Result
		C chart
	} {
		return struct {
			R *Result
			C chart
		}{r, c}
	},
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>nomosrun: {{.R.Scenario}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1 .passed{color:#2a7a2a}h1 .failed,h1 .error,h1 .interrupted{color:#b22}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
pre{margin:0;white-space:pre-wrap}.fail{background:#fdecea}.ok{background:#eef8ee}
.fault-window{fill:#d62728;fill-opacity:0.12}
</style></head><body>
<h1>{{.R.Scenario}} <span class="{{.R.Outcome}}">{{.R.Outcome}}</span></h1>
<p>runner <b>{{.R.Runner}}</b>, seed <b>{{.R.Seed}}</b>, duration {{round .R.Duration}}, expected blocks {{.R.ExpectedBlocks}}</p>
{{if .R.Error}}<pre class="fail">{{.R.Error}}</pre>{{end}}
<h2>Height over time</h2>
<p><small>shaded: fault windows; circles: a fault starting or healing on a node, or a node restart (hover for details)</small></p>
{{template "chart" (chart .R .Height)}}
<h2>LIB over time</h2>
{{template "chart" (chart .R .LIB)}}
{{if .R.Series}}<h2>Recorded series</h2>
<p><small>values the scenario's hooks recorded with ctx.record</small></p>
{{template "chart" (chart .R .Series)}}{{end}}
{{if .R.Hooks}}<h2>Hooks</h2><table><tr><th>hook</th><th>calls</th><th>skipped intervals</th></tr>
{{range .R.Hooks.Hooks}}<tr><td>{{.ID}} {{.Kind}} {{.Func}}<br><small>{{.Pos}}</small></td><td>{{.Calls}}</td><td>{{.Skipped}}</td></tr>
{{end}}</table><p>on_block calls lagged the feed by at most {{round .R.Hooks.MaxLag}} ({{.R.Hooks.MaxLagBlocks}} blocks)</p>{{end}}
<h2>Expectations</h2>
<table><tr><th>id</th><th>expectation</th><th>result</th><th>evidence</th><th>message</th></tr>
{{range .R.Expectations}}<tr class="{{if .Passed}}ok{{else}}fail{{end}}"><td>{{.ID}}</td><td>{{.Name}}{{if .Pos}}<br><small>{{.Pos}}</small>{{end}}</td><td>{{if .Passed}}passed{{else}}FAILED{{end}}</td><td>{{.Summary}}{{if .Evidence}}<details><summary>figures</summary><pre>{{evidence .Evidence}}</pre></details>{{end}}</td><td><pre>{{.Message}}</pre></td></tr>
{{end}}</table>
<h2>Nodes</h2>
<table><tr><th>node</th><th>role</th><th>height</th><th>LIB</th><th>tip</th><th>mode</th></tr>
{{range .R.Nodes}}<tr><td>{{.Name}}</td><td>{{.Role}}</td><td>{{.Height}}</td><td>{{short .LIB}}</td><td>{{short .Tip}}</td><td>{{.Mode}}{{if .Error}} <pre class="fail">{{.Error}}</pre>{{end}}</td></tr>
{{end}}</table>
{{if .R.Workloads}}<h2>Workloads</h2><table><tr><th>id</th><th>kind</th><th>counts</th></tr>
{{range .R.Workloads}}<tr><td>{{.ID}}</td><td>{{.Kind}}</td><td>{{counts .Counts}}{{if .Error}} <pre class="fail">{{.Error}}</pre>{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .R.Faults}}<h2>Faults</h2><table><tr><th>id</th><th>kind</th><th>targets</th><th>window</th><th>applied</th><th>healed</th></tr>
{{range .R.Faults}}<tr class="fault"><td>{{.ID}}</td><td>{{.Kind}}{{if .Bug}} {{.Bug}}{{end}}</td><td>{{range .Targets}}{{.}} {{end}}</td><td>{{.Start}} .. {{.End}}</td><td>{{.Applied}}{{if .Error}}<pre class="fail">{{.Error}}</pre>{{end}}</td><td>{{.Healed}}</td></tr>
{{end}}</table>{{end}}
<h2>Timeline</h2><table><tr><th>at</th><th>event</th><th>detail</th></tr>
{{range .R.Timeline}}<tr><td>{{round .At}}</td><td>{{.Kind}} {{.Name}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>
</body></html>
`)).Parse(chartTemplate))

// WriteHTML writes a self-contained HTML report (inline SVG, no external
// assets).
func WriteHTML(w io.Writer, r *Result) error {
	return page.Execute(w, struct {
		R                   *Result
		Height, LIB, Series chart
	}{r, buildChart(r, "height-chart", heightCurves(r, func(s HeightSample) uint64 { return s.Height })),
		buildChart(r, "lib-chart", heightCurves(r, func(s HeightSample) uint64 { return s.LIB })),
		buildChart(r, "series-chart", seriesCurves(r))})
}

// labelGap is the least vertical distance between two line labels.
const labelGap = 12.0

// spreadLabels moves the end-of-line labels apart where lines end at about
// the same height (nodes in agreement end at the same tip), keeping their
// order, so every node's name stays readable.
func spreadLabels(lines []line) {
	idx := make([]int, len(lines))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lines[idx[a]].LabelY < lines[idx[b]].LabelY })
	for k := 1; k < len(idx); k++ {
		prev, cur := &lines[idx[k-1]], &lines[idx[k]]
		if cur.LabelY < prev.LabelY+labelGap {
			cur.LabelY = prev.LabelY + labelGap
		}
	}
}

// evidenceJSON renders an expectation's evidence for reading.
func evidenceJSON(v any) string {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(js)
}

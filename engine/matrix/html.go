package matrix

import (
	"html/template"
	"io"
	"path"
)

var indexPage = template.Must(template.New("index").Funcs(template.FuncMap{
	"report": func(dir string) string { return path.Join(dir, "report.html") },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Scenario}} matrix</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
.passed{color:#17702a}.failed,.error,.interrupted{color:#b00020}.skipped{color:#777}</style></head>
<body><h1>{{.Scenario}}</h1>
<p>{{len .Jobs}} jobs, seed {{.Seed}}{{if .Shard}}, shard {{.Shard}}{{end}}, exit code {{.ExitCode}}</p>
<table><tr><th>job</th><th>outcome</th><th>exit</th><th>seconds</th><th>detail</th></tr>
{{range .Jobs}}<tr><td>{{if and .Dir .Result}}<a href="{{report .Dir}}">{{.ID}}</a>{{else}}{{.ID}}{{end}}</td>
<td class="{{.Outcome}}">{{.Outcome}}</td><td>{{.ExitCode}}</td><td>{{printf "%.1f" .Seconds}}</td><td>{{.Error}}</td></tr>
{{end}}</table></body></html>
`))

// WriteHTML writes index.html: one row per job, linking each job's own
// report.html.
func (s *Summary) WriteHTML(w io.Writer) error { return indexPage.Execute(w, s) }

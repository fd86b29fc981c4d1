// Package matrix expands a scenario's param matrix into jobs with stable
// ids, splits the jobs into shards for CI, and summarises the results of a
// matrix run as a table, summary.json and JUnit XML.
package matrix

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Axis is one dimension: a param and its values, in order.
type Axis struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Param is one name=value a job sets.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Job is one combination of runner and param values.
type Job struct {
	// ID names the job: the runner then name=value per axis, joined by
	// "-" (host-validators=3-rate=5). It is also the job's directory name.
	ID string `json:"id"`
	// Index is the job's position in the full expansion (0-based), the
	// same whatever the shard.
	Index  int     `json:"index"`
	Runner string  `json:"runner"`
	Params []Param `json:"params"`
}

// Set returns the job's params as --set values.
func (j Job) Set() map[string]string {
	m := make(map[string]string, len(j.Params))
	for _, p := range j.Params {
		m[p.Name] = p.Value
	}
	return m
}

var axisName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// ParseAxis parses a --matrix flag: name=v1,v2,... Values are trimmed; an
// empty or repeated value is an error.
func ParseAxis(s string) (Axis, error) {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Axis{}, fmt.Errorf("--matrix %q: want name=value1,value2,...", s)
	}
	if !axisName.MatchString(name) {
		return Axis{}, fmt.Errorf("--matrix %q: invalid param name %q", s, name)
	}
	a := Axis{Name: name}
	seen := map[string]bool{}
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return Axis{}, fmt.Errorf("--matrix %q: empty value", s)
		}
		if seen[v] {
			return Axis{}, fmt.Errorf("--matrix %q: value %q given twice", s, v)
		}
		seen[v] = true
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// Merge applies the command-line axes over the declared ones: an axis of
// the same name is replaced where it stands, a new one is appended. Two
// command-line axes with the same name are an error.
func Merge(declared, flags []Axis) ([]Axis, error) {
	out := append([]Axis(nil), declared...)
	given := map[string]bool{}
	for _, f := range flags {
		if given[f.Name] {
			return nil, fmt.Errorf("--matrix %s given twice", f.Name)
		}
		given[f.Name] = true
		replaced := false
		for i := range out {
			if out[i].Name == f.Name {
				out[i], replaced = f, true
			}
		}
		if !replaced {
			out = append(out, f)
		}
	}
	return out, nil
}

// Expand returns every combination of runner and axis values: runners
// outermost, then the axes in order, the last axis varying fastest. The
// order and the ids depend only on the inputs.
func Expand(runners []string, axes []Axis) ([]Job, error) {
	if len(runners) == 0 {
		return nil, fmt.Errorf("no runner given")
	}
	seenAxis := map[string]bool{}
	for _, a := range axes {
		if seenAxis[a.Name] {
			return nil, fmt.Errorf("axis %s given twice", a.Name)
		}
		seenAxis[a.Name] = true
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("axis %s has no values", a.Name)
		}
	}
	var jobs []Job
	ids := map[string]string{}
	for _, r := range runners {
		idx := make([]int, len(axes))
		for {
			j := Job{Index: len(jobs), Runner: r, Params: make([]Param, len(axes))}
			parts := []string{safe(r)}
			for i, a := range axes {
				j.Params[i] = Param{a.Name, a.Values[idx[i]]}
				parts = append(parts, safe(a.Name)+"="+safe(a.Values[idx[i]]))
			}
			j.ID = strings.Join(parts, "-")
			key := strings.ToLower(j.ID)
			if prev, dup := ids[key]; dup {
				return nil, fmt.Errorf("jobs %s and %s get the same id %s; use values that differ in letters or digits",
					prev, describe(j), j.ID)
			}
			ids[key] = describe(j)
			jobs = append(jobs, j)
			if !next(idx, axes) {
				break
			}
		}
	}
	return jobs, nil
}

// next advances the odometer idx; false when it wrapped around.
func next(idx []int, axes []Axis) bool {
	for i := len(idx) - 1; i >= 0; i-- {
		idx[i]++
		if idx[i] < len(axes[i].Values) {
			return true
		}
		idx[i] = 0
	}
	return false
}

func describe(j Job) string {
	parts := []string{"runner=" + j.Runner}
	for _, p := range j.Params {
		parts = append(parts, strconv.Quote(p.Name+"="+p.Value))
	}
	return "(" + strings.Join(parts, " ") + ")"
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._+]+`)

// safe keeps a value usable in a file name and a JUnit suite name.
func safe(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// ParseShard parses "i/n" (1 <= i <= n).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n, e.g. 2/4", s)
	}
	return i, n, nil
}

// Shard returns the jobs of shard i of n (1-based): every n-th job starting
// at the i-th, so shards differ in size by at most one and together hold
// every job exactly once.
func Shard(jobs []Job, i, n int) []Job {
	var out []Job
	for k, j := range jobs {
		if k%n == i-1 {
			out = append(out, j)
		}
	}
	return out
}

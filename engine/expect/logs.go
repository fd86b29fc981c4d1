package expect

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Log checks that a pattern (a Go regexp) matches at least one line of the
// collected log of every target node.
type Log struct {
	Nodes   []string
	Pattern *regexp.Regexp
}

func newLog(nodes []string, pattern string) (*Log, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("log pattern %q: %v", pattern, err)
	}
	return &Log{Nodes: nodes, Pattern: re}, nil
}

// LogEvidence is what a log assertion judged.
type LogEvidence struct {
	Pattern   string   `json:"pattern"`
	Matched   []string `json:"matched"`
	Unmatched []string `json:"unmatched,omitempty"`
	Missing   []string `json:"missing,omitempty"`
}

// Evaluate implements Expectation.
func (l *Log) Evaluate(_ context.Context, env *Env) (Verdict, error) {
	if env.LogDir == "" {
		return Verdict{}, noSamples("no node logs were collected")
	}
	if len(l.Nodes) == 0 {
		return Verdict{}, noSamples("no target nodes")
	}
	var matched []string
	var missing, unmatched []string
	for _, n := range l.Nodes {
		found, err := grep(filepath.Join(env.LogDir, n+".log"), l.Pattern)
		switch {
		case err != nil:
			missing = append(missing, fmt.Sprintf("%s (%v)", n, err))
		case !found:
			unmatched = append(unmatched, n)
		default:
			matched = append(matched, n)
		}
	}
	if len(missing) == len(l.Nodes) {
		return Verdict{}, noSamples("no log for %s", strings.Join(missing, ", "))
	}
	v := Verdict{Evidence: LogEvidence{Pattern: l.Pattern.String(), Matched: matched, Unmatched: unmatched, Missing: missing},
		Summary: fmt.Sprintf("/%s/ matched in the log of %d of %d node(s)", l.Pattern, len(matched), len(l.Nodes))}
	var issues []string
	if len(unmatched) > 0 {
		issues = append(issues, fmt.Sprintf("pattern /%s/ not found in the log of %s", l.Pattern, strings.Join(unmatched, ", ")))
	}
	if len(missing) > 0 {
		issues = append(issues, "no log for "+strings.Join(missing, ", "))
	}
	if len(issues) > 0 {
		return v, fmt.Errorf("%s", strings.Join(issues, "; "))
	}
	return v, nil
}

func grep(path string, re *regexp.Regexp) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if re.Match(sc.Bytes()) {
			return true, nil
		}
	}
	return false, sc.Err()
}

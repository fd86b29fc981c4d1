package startest

import (
	"fmt"
	"strings"
	"testing"
)

type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestParse(t *testing.T) {
	src := "a = 1\nb()  ### \"undefined: b\"\n---\n# set: n=3\nc()  ### \"boom\"\nd = 2\n"
	r := &recorder{}
	chunks := Parse("x.star", src, r)
	if len(chunks) != 2 {
		t.Fatalf("got %d chunks, want 2", len(chunks))
	}
	if got := strings.Count(chunks[1].Source, "\n"); got < 4 || !strings.HasPrefix(chunks[1].Source, "\n\n\n# set") {
		t.Errorf("chunk 2 not padded to its file lines: %q", chunks[1].Source)
	}
	if d := chunks[1].Directive("set"); len(d) != 1 || d[0] != "n=3" {
		t.Errorf("Directive = %q, want [n=3]", d)
	}
	chunks[0].GotError(2, "undefined: b")
	chunks[0].Done()
	chunks[1].GotError(5, "other")
	chunks[1].GotError(6, "surprise")
	chunks[1].Done()
	if len(r.msgs) != 2 || !strings.Contains(r.msgs[0], "does not match") || !strings.Contains(r.msgs[1], "unexpected error") {
		t.Errorf("reports = %q", r.msgs)
	}
	r2 := &recorder{}
	c := Parse("y.star", "x() ### \"never\"\n", r2)[0]
	c.Done()
	if len(r2.msgs) != 1 || !strings.Contains(r2.msgs[0], "expected error") {
		t.Errorf("missing error not reported: %q", r2.msgs)
	}
}

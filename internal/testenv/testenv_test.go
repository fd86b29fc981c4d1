package testenv

import (
	"errors"
	"testing"
)

// recorder captures what Require asks of a test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestRequire(t *testing.T) {
	for _, tc := range []struct {
		ci              string
		err             error
		skipped, failed bool
	}{
		{"", nil, false, false},
		{"true", nil, false, false},
		{"", errors.New("no engine"), true, false},
		{"true", errors.New("no engine"), false, true},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{}
		Require(r, "Docker", tc.err)
		if r.skipped != tc.skipped || r.failed != tc.failed {
			t.Errorf("CI=%q err=%v: skipped %v failed %v, want %v %v", tc.ci, tc.err, r.skipped, r.failed, tc.skipped, tc.failed)
		}
	}
}

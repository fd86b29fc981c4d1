package starlib

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nomosrun/nomosrun/engine/plan"
)

func TestMatrixRecorded(t *testing.T) {
	res, err := interpret(t, "v = param('validators', 1)\nmatrix(validators=[2, 3], slot=['1s', '500ms'], chaos=[True, False], f=[0.5])\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []plan.MatrixAxis{
		{Name: "validators", Values: []string{"2", "3"}},
		{Name: "slot", Values: []string{"1s", "500ms"}},
		{Name: "chaos", Values: []string{"true", "false"}},
		{Name: "f", Values: []string{"0.5"}},
	}
	got := res.Plan.Matrix
	for i := range got {
		if got[i].Pos.Line != 2 {
			t.Errorf("axis %s at %s, want line 2", got[i].Name, got[i].Pos)
		}
		got[i].Pos = plan.Pos{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
}

func TestMatrixErrors(t *testing.T) {
	for src, want := range map[string]string{
		"matrix()":                     "matrix: give at least one axis",
		"matrix([1])":                  "matrix: takes keyword arguments only",
		"matrix(v=1)":                  "matrix: v: want a list of values, got int",
		"matrix(v='ab')":               "matrix: v: want a list of values, got string",
		"matrix(v=[])":                 "matrix: v: want at least one value",
		"matrix(v=[1, 1])":             "matrix: v: value 1 given twice",
		"matrix(v=[None])":             "matrix: v[0]: want a string, int, float or bool, got NoneType",
		"matrix(v=[1])\nmatrix(w=[2])": "matrix: matrix already declared",
	} {
		_, err := interpret(t, src, Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}

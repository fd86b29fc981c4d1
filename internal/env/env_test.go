package env

import (
	"testing"
	"time"
)

func TestTrueAndSet(t *testing.T) {
	for _, c := range []struct {
		v         string
		true, set bool
	}{{"", false, false}, {"0", false, false}, {"false", false, false}, {"FALSE", false, false},
		{"1", true, true}, {"true", true, true}, {" True ", true, true}, {"yes", true, true}, {"maybe", false, true}} {
		t.Setenv(KeepLogs.Name, c.v)
		if got := KeepLogs.True(); got != c.true {
			t.Errorf("%q: True() = %v, want %v", c.v, got, c.true)
		}
		if got := KeepLogs.Set(); got != c.set {
			t.Errorf("%q: Set() = %v, want %v", c.v, got, c.set)
		}
	}
}

func TestScaled(t *testing.T) {
	t.Setenv(SlowTest.Name, "true")
	if got := Scaled(time.Second); got != 2*time.Second {
		t.Errorf("slow: Scaled(1s) = %v, want 2s", got)
	}
	t.Setenv(SlowTest.Name, "")
	if got := Scaled(time.Second); got != time.Second {
		t.Errorf("not slow: Scaled(1s) = %v, want 1s", got)
	}
}

func TestAllUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range All {
		if v.Name == "" || v.Doc == "" {
			t.Errorf("variable %+v lacks a name or a doc", v)
		}
		if seen[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		seen[v.Name] = true
	}
}

package env

import (
	"flag"
	"os"
	"strings"
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

var update = flag.Bool("update", false, "rewrite docs/environment.md")

// docs/environment.md is generated from the declarations here.
func TestEnvironmentDoc(t *testing.T) {
	const path = "../../docs/environment.md"
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; rewrite it with go test ./internal/env -run TestEnvironmentDoc -update", path)
	}
}

// Every variable the Rust framework read is declared: honoured in All, or ignored
// with a reason, never both.
func TestSeedsCovered(t *testing.T) {
	names := map[string]bool{}
	for _, v := range All {
		names[v.Name] = true
	}
	for _, n := range FromSeeds {
		if !names[n] {
			t.Errorf("%s is marked as from the Rust framework but not in All", n)
		}
	}
	for _, v := range IgnoredVars {
		if names[v.Name] {
			t.Errorf("%s is both honoured and ignored", v.Name)
		}
		if v.Why == "" {
			t.Errorf("%s is ignored without a reason", v.Name)
		}
		names[v.Name] = true
	}
}

func TestWarnings(t *testing.T) {
	t.Setenv("TEST_FRAMEWORK_PROMETHEUS_PORT", "9091")
	t.Setenv("VERSION", "v0.3.1")
	t.Setenv("RUST_LOG", "")
	t.Setenv("LOGOS_BLOCKCHAIN_DEMO_NODES", "3")
	got := strings.Join(Warnings(), "\n")
	for _, want := range []string{"TEST_FRAMEWORK_PROMETHEUS_PORT is ignored: ", "LOGOS_BLOCKCHAIN_DEMO_NODES is ignored: "} {
		if strings.Count(got, want) != 1 {
			t.Errorf("want one %q in warnings:\n%s", want, got)
		}
	}
	if strings.Contains(got, "VERSION") || strings.Contains(got, "RUST_LOG") {
		t.Errorf("warnings name a script-only or empty variable:\n%s", got)
	}
}

func TestParsePairs(t *testing.T) {
	for in, want := range map[string][2]int{"1x1": {1, 1}, "3X2": {3, 2}, " 2×0 ": {2, 0}} {
		v, e, err := ParsePairs(in)
		if err != nil || v != want[0] || e != want[1] {
			t.Errorf("ParsePairs(%q) = %d, %d, %v; want %v", in, v, e, err, want)
		}
	}
	for _, in := range []string{"", "3", "0x1", "1x-1", "ax1", "1x1x1"} {
		if _, _, err := ParsePairs(in); err == nil {
			t.Errorf("ParsePairs(%q) accepted", in)
		}
	}
}

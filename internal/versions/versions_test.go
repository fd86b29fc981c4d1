package versions

import (
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(v.TestnetImage, ":"+v.NomosNode) || !strings.HasPrefix(v.TestnetImage, "nomosrun/simnode:") {
		t.Errorf("NOMOS_TESTNET_IMAGE = %q, want nomosrun/simnode:%s", v.TestnetImage, v.NomosNode)
	}
	if !regexp.MustCompile(`^v1\.37\.\d+$`).MatchString(v.Kubernetes) {
		t.Errorf("KUBERNETES_VERSION = %q, want v1.37.x", v.Kubernetes)
	}
}

// TestStarlarkPin checks that versions.env and go.mod pin the same
// go.starlark.net pseudo-version.
func TestStarlarkPin(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "go.starlark.net "+v.GoStarlark) {
		t.Errorf("go.mod does not pin go.starlark.net %s (GO_STARLARK_VERSION in versions.env)", v.GoStarlark)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "go.starlark.net" && d.Version != v.GoStarlark {
				t.Errorf("built with go.starlark.net %s, versions.env says %s", d.Version, v.GoStarlark)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	full := "NOMOSRUN_VERSION=1\nNOMOS_NODE_VERSION=1\nNOMOS_TESTNET_IMAGE=x:1\nKUBERNETES_VERSION=v1.37.0\nGO_STARLARK_VERSION=v0\n"
	for _, tc := range []struct{ name, in, want string }{
		{"malformed", full + "JUNK\n", "want KEY=VALUE"},
		{"duplicate", full + "NOMOSRUN_VERSION=2\n", "set twice"},
		{"missing", "NOMOSRUN_VERSION=1\n", "is missing"},
	} {
		if _, err := Parse([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	v, err := Parse([]byte("# c\n\n" + full + "EXTRA_KEY=3\n"))
	if err != nil || v.Other["EXTRA_KEY"] != "3" || v.Nomosrun != "1" {
		t.Errorf("Parse = %+v, %v; want EXTRA_KEY kept in Other", v, err)
	}
}

// The Rust framework's NOMOS_NODE_REV is carried as the nomos-node revision the
// reference node follows: a full commit id.
func TestNodeRev(t *testing.T) {
	v, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if rev := v.Other["NOMOS_NODE_REV"]; !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(rev) {
		t.Errorf("NOMOS_NODE_REV = %q, want a 40-digit commit id", rev)
	}
}

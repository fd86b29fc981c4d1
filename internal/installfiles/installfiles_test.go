package installfiles

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configMapVolume lays out files as the kubelet mounts a ConfigMap with
// items: the files in a timestamped directory, "..data" linking to it, and
// each top-level entry a link through "..data".
func configMapVolume(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	stamp := filepath.Join(dir, "..2026_12_01_13_00_00.000000001")
	for p, body := range files {
		full := filepath.Join(stamp, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Base(stamp), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(stamp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join("..data", e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tree lists every file under dir as "path=contents", links followed.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			t.Errorf("%s is a link, want a copy", p)
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+"="+string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

func TestInstallCopiesAConfigMapVolume(t *testing.T) {
	src := configMapVolume(t, map[string]string{
		"config/config.toml": "toml", "config/genesis.json": "{}", "data/state.json": "0", "top.txt": "top",
	})
	dst := filepath.Join(t.TempDir(), "home")
	if err := Install(src, dst); err != nil {
		t.Fatal(err)
	}
	want := "config/config.toml=toml config/genesis.json={} data/state.json=0 top.txt=top"
	if got := tree(t, dst); got != want {
		t.Fatalf("installed %q, want %q", got, want)
	}
	st, err := os.Stat(filepath.Join(dst, "config", "config.toml"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want the source's 0600", st.Mode(), err)
	}
	// A restart installs again: what the node wrote stays, what is missing
	// comes back.
	if err := os.WriteFile(filepath.Join(dst, "data", "state.json"), []byte("7"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dst, "top.txt")); err != nil {
		t.Fatal(err)
	}
	if err := Install(src, dst); err != nil {
		t.Fatal(err)
	}
	want = "config/config.toml=toml config/genesis.json={} data/state.json=7 top.txt=top"
	if got := tree(t, dst); got != want {
		t.Fatalf("after a second install %q, want %q", got, want)
	}
}

func TestInstallErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Install(file, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as the source: %v", err)
	}
	if err := Install(filepath.Join(t.TempDir(), "missing"), t.TempDir()); err == nil {
		t.Error("a missing source: no error")
	}
	loop := t.TempDir()
	if err := os.Symlink(".", filepath.Join(loop, "self")); err != nil {
		t.Fatal(err)
	}
	if err := Install(loop, t.TempDir()); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("a link loop: %v", err)
	}
}

func TestMainExitCodes(t *testing.T) {
	var errb bytes.Buffer
	if code := Main([]string{"only-one"}, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("one argument: exit %d %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{filepath.Join(t.TempDir(), "missing"), t.TempDir()}, &errb); code != 1 || !strings.HasPrefix(errb.String(), Command+":") {
		t.Errorf("a missing source: exit %d %q", code, errb.String())
	}
	src, dst := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := Main([]string{src, dst}, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if b, err := os.ReadFile(filepath.Join(dst, "a")); err != nil || string(b) != "x" {
		t.Errorf("copied %q, %v", b, err)
	}
}

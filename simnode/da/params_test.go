package da

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kzgrstestparams "github.com/nomosrun/nomosrun/assets/kzgrs_test_params"
)

func TestLoadParamsMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "kzgrs_test_params")
	_, err := LoadParams(path)
	want := "missing KZG parameters at " + path + " (set NOMOS_KZGRS_PARAMS_PATH or run go run ./tools/kzgparams)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("error does not wrap fs.ErrNotExist")
	}
}

func TestLoadParamsCorrupt(t *testing.T) {
	good, err := os.ReadFile(repoFile(t, RepoParamsPath))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[100*48+7] ^= 0x01 // inside a power of tau
	lines := bytes.Clone(good)
	lines[len(lines)-10] ^= 0x01 // inside the precomputed pairing lines
	swapped := bytes.Clone(good) // valid points, wrong order
	copy(swapped[4+5*48:4+6*48], good[4+6*48:4+7*48])
	copy(swapped[4+6*48:4+7*48], good[4+5*48:4+6*48])
	cases := map[string][]byte{
		"swapped powers": swapped,
		"empty":          {},
		"text":           []byte("not a parameter file\n"),
		"truncated":      good[:len(good)/2],
		"trailing bytes": append(bytes.Clone(good), 0),
		"flipped power":  flipped,
		"flipped line":   lines,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kzgrs_test_params")
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadParams(path)
			if err == nil {
				t.Fatal("corrupt parameters loaded")
			}
			if name == "swapped powers" && !strings.Contains(err.Error(), "inconsistent") {
				t.Fatalf("swapped powers: %v", err)
			}
			prefix := "KZG parameters at " + path + ": corrupt parameter file: "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error = %q, want prefix %q", err, prefix)
			}
		})
	}
}

func TestParamsHashPinned(t *testing.T) {
	want := pinnedHash(t)
	file, err := os.ReadFile(repoFile(t, RepoParamsPath))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(file); hex.EncodeToString(got[:]) != want {
		t.Fatalf("%s has SHA-256 %x, versions.env pins %s", RepoParamsPath, got, want)
	}
	if got := sha256.Sum256(kzgrstestparams.File); hex.EncodeToString(got[:]) != want {
		t.Fatalf("embedded parameters have SHA-256 %x, versions.env pins %s", got, want)
	}
}

func TestGeneratedParamsMatchFile(t *testing.T) {
	p, err := GenerateTestParams(TestParamsSize)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), kzgrstestparams.File) {
		t.Fatal("regenerated parameters differ from the committed file: run go run ./tools/kzgparams and update versions.env")
	}
	if _, err := GenerateTestParams(1); err == nil {
		t.Fatal("size 1 accepted")
	}
}

// pinnedHash reads KZGRS_PARAMS_SHA256 from versions.env.
func pinnedHash(t *testing.T) string {
	t.Helper()
	f, err := os.Open(repoFile(t, "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "KZGRS_PARAMS_SHA256="); ok {
			return v
		}
	}
	t.Fatal("versions.env has no KZGRS_PARAMS_SHA256 line")
	return ""
}

func TestParamsPath(t *testing.T) {
	if _, err := os.Stat(ContainerParamsPath); err == nil {
		t.Skip("container parameter path exists on this machine")
	}
	t.Setenv(ParamsEnv, "/custom/params")
	if got := ParamsPath(); got != "/custom/params" {
		t.Fatalf("with %s set: %q", ParamsEnv, got)
	}
	t.Setenv(ParamsEnv, "")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, RepoParamsPath)
	if got := ParamsPath(); got != want {
		t.Fatalf("from simnode/da: %q, want %q", got, want)
	}
	t.Chdir(t.TempDir()) // no go.mod above a temp dir
	if got := ParamsPath(); got != RepoParamsPath {
		t.Fatalf("outside the module: %q, want %q", got, RepoParamsPath)
	}
}

func TestLoadDefaultParams(t *testing.T) {
	if _, err := os.Stat(ContainerParamsPath); err == nil {
		t.Skip("container parameter path exists on this machine")
	}
	t.Setenv(ParamsEnv, "")
	t.Chdir(t.TempDir())
	p, err := LoadDefaultParams() // falls back to the embedded copy
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxColumns() != 2*TestParamsSize {
		t.Fatalf("MaxColumns = %d", p.MaxColumns())
	}
	missing := filepath.Join(t.TempDir(), "absent")
	t.Setenv(ParamsEnv, missing)
	var me *MissingParamsError
	if _, err := LoadDefaultParams(); !errors.As(err, &me) || me.Path != missing {
		t.Fatalf("explicit missing path: err = %v", err)
	}
}

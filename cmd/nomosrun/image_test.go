package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImageAndCleanUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"image"}, "image: want 'build' or 'save'"},
		{[]string{"image", "push"}, "image: want 'build' or 'save'"},
		{[]string{"image", "save"}, "image save: -o FILE is required"},
		{[]string{"image", "build", "extra"}, `image build: unexpected argument "extra"`},
		{[]string{"clean", "extra"}, `clean: unexpected argument "extra"`},
	} {
		code, _, stderr := nomosrun(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("nomosrun %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, ExitUsage, tc.want)
		}
	}
}

// image save writes a loadable archive, or on failure no file at all.
func TestImageSave(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "image.tar")
	t.Setenv("NOMOS_NODE_BIN", "/bin/sh")
	code, _, stderr := nomosrun(t, "image", "save", "-o", out)
	if code != ExitInfrastructure || !strings.Contains(stderr, "NOMOS_NODE_BIN=/bin/sh") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a failed save left %v", entries)
	}
}

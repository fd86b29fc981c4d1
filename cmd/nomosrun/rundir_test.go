package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRunDirectoryClearsAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"data/validator-0", "configs", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, keep, err := runDirectory(dir, "s.star")
	if err != nil || !keep || got != dir {
		t.Fatalf("runDirectory = %q, %v, %v", got, keep, err)
	}
	for _, sub := range []string{"data", "configs", "logs"} {
		if _, err := os.Stat(filepath.Join(dir, sub)); !os.IsNotExist(err) {
			t.Errorf("%s survived: %v", sub, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file of the user's was removed: %v", err)
	}
}

func TestRunDirectoryRefusesForeignData(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runDirectory(dir, "s.star"); err == nil || codeOf(err) != ExitUsage {
		t.Fatalf("want a usage error for a foreign data folder, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Fatalf("foreign data removed: %v", err)
	}
}

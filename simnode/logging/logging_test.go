package logging

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilterPerTarget(t *testing.T) {
	var buf bytes.Buffer
	log, closeLog, err := New(Options{Level: "warn", Filter: "consensus=debug,p2p=error"}, "validator", 2, &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	log.With("target", "consensus").Debug("consensus-debug")
	log.With("target", "p2p").Warn("p2p-warn")
	log.Info("global-info")
	log.Warn("global-warn")
	out := buf.String()
	for want, present := range map[string]bool{"consensus-debug": true, "p2p-warn": false, "global-info": false, "global-warn": true} {
		if strings.Contains(out, want) != present {
			t.Errorf("%s present=%v in %q", want, !present, out)
		}
	}
}

func TestLogDirFileNames(t *testing.T) {
	dir := t.TempDir()
	log, closeLog, err := New(Options{Dir: dir}, "executor", 1, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello")
	closeLog()
	b, err := os.ReadFile(filepath.Join(dir, "nomos-executor-1.log"))
	if err != nil || !strings.Contains(string(b), "hello") {
		t.Errorf("log file: %q %v", b, err)
	}
	if FileName("validator", 3) != "nomos-node-3.log" {
		t.Error(FileName("validator", 3))
	}
}

func TestBadSettings(t *testing.T) {
	if _, _, err := New(Options{Level: "loud"}, "validator", 0, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "NOMOS_LOG_LEVEL") {
		t.Errorf("bad level: %v", err)
	}
	if _, _, err := New(Options{Filter: "consensus"}, "validator", 0, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "NOMOS_LOG_FILTER") {
		t.Errorf("bad filter: %v", err)
	}
}

//go:build unix

package procgroup

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startSleeper starts a shell that runs a background and a foreground sleep,
// so the group has two members.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30")
	Prepare(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = Signal(cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

func TestPrepareStartsNewGroup(t *testing.T) {
	cmd := startSleeper(t)
	pgid, err := syscall.Getpgid(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("getpgid: %v", err)
	}
	if pgid != cmd.Process.Pid {
		t.Fatalf("pgid = %d, want the child's pid %d", pgid, cmd.Process.Pid)
	}
	if own := syscall.Getpgrp(); own == pgid {
		t.Fatalf("child shares the test's process group %d", own)
	}
	if !Alive(pgid) {
		t.Fatal("Alive = false for a running group")
	}
}

func TestSignalKillsWholeGroup(t *testing.T) {
	cmd := startSleeper(t)
	pgid := cmd.Process.Pid
	if err := Signal(pgid, syscall.SIGKILL); err != nil {
		t.Fatalf("signal: %v", err)
	}
	_ = cmd.Wait()
	// The background sleep is reparented to init, which reaps it shortly.
	deadline := time.Now().Add(5 * time.Second)
	for Alive(pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has members after SIGKILL", pgid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := Signal(pgid, syscall.SIGTERM); err != nil {
		t.Fatalf("signal to a gone group: %v, want nil", err)
	}
}

func TestSignalRejectsBadGroup(t *testing.T) {
	if err := Signal(0, syscall.SIGTERM); err == nil {
		t.Fatal("Signal(0) = nil, want an error (it would signal our own group)")
	}
	if Alive(0) || Alive(-5) {
		t.Fatal("Alive accepted a non-positive pgid")
	}
}

//go:build unix

// Package procgroup starts child processes in their own process group and
// signals the whole group, so a node and anything it spawns are stopped,
// frozen or killed together and never outlive the program that started them.
//
// On Linux each child also gets a parent-death signal (SIGKILL): if this
// program dies, even by SIGKILL, the kernel kills the child. The signal is
// tied to the OS thread that forked the child; the Go runtime never ends a
// thread that is not locked to a goroutine, so callers must not start
// children from a goroutine that holds runtime.LockOSThread and then exits.
package procgroup

import (
	"errors"
	"fmt"
	"os/exec"
	"syscall"
)

// Prepare makes cmd start in a new process group (its pgid is its pid) and,
// where supported, die with its parent. Call it before cmd.Start.
func Prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	setParentDeathSignal(cmd.SysProcAttr)
}

// Signal sends sig to every process of the group led by pgid. A group that
// no longer exists is not an error.
func Signal(pgid int, sig syscall.Signal) error {
	if pgid <= 0 {
		return fmt.Errorf("invalid process group %d", pgid)
	}
	err := syscall.Kill(-pgid, sig)
	if err == nil || errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return fmt.Errorf("signal %v to process group %d: %w", sig, pgid, err)
}

// Alive reports whether any process of the group led by pgid still exists
// (zombies included: a group is gone once its members are reaped).
func Alive(pgid int) bool {
	if pgid <= 0 {
		return false
	}
	err := syscall.Kill(-pgid, 0)
	// EPERM means the group exists but belongs to someone else.
	return err == nil || errors.Is(err, syscall.EPERM)
}

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// SignalCommand is the hidden subcommand that freezes and thaws the node:
// "signal stop" sends SIGSTOP, "signal cont" SIGCONT, to every other process
// of the PID namespace running the same executable. "signal stop PROGRAM"
// signals the processes running the executable file PROGRAM instead: the
// node of another kind, whose image holds this binary as a helper. Runners
// without a process freeze of their own (Kubernetes) exec it in the node's
// pod, whose containers share one PID namespace so that the node is not
// PID 1, to which the kernel would not deliver SIGSTOP from inside.
const SignalCommand = "signal"

// signals maps the subcommand's argument to its signal.
var signals = map[string]syscall.Signal{"stop": syscall.SIGSTOP, "cont": syscall.SIGCONT}

// signalMain runs "signal stop|cont [PROGRAM]"; it prints how many
// processes it signalled. Exit codes: 0 done, 1 no process found or a
// signal failed, 2 usage.
func signalMain(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 || len(args) > 2 || signals[args[0]] == 0 {
		fmt.Fprintln(stderr, "usage: simnode signal stop|cont [PROGRAM]")
		return 2
	}
	var n int
	var err error
	if len(args) == 2 {
		n, err = SignalProgram(signals[args[0]], args[1])
	} else {
		n, err = SignalPeers(signals[args[0]])
	}
	if err != nil {
		fmt.Fprintln(stderr, "signal:", err)
		return 1
	}
	fmt.Fprintf(stdout, "signalled %d process(es) with %s\n", n, args[0])
	return 0
}

// SignalPeers sends sig to every process other than this one whose
// executable is the same file as this process's, and returns how many it
// signalled. Finding none is an error. Processes whose executable cannot be
// read (other users', other containers') are not ours and are skipped.
func SignalPeers(sig syscall.Signal) (int, error) {
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("own executable: %w", err)
	}
	n, err := signalRunning(sig, self)
	if err == nil && n == 0 {
		err = errors.New("no other process runs this executable in this PID namespace " +
			"(a pod needs shareProcessNamespace: true)")
	}
	return n, err
}

// SignalProgram sends sig to every process other than this one whose
// executable is the file program, and returns how many it signalled.
// Finding none is an error.
func SignalProgram(sig syscall.Signal, program string) (int, error) {
	exe, err := os.Stat(program)
	if err != nil {
		return 0, fmt.Errorf("program: %w", err)
	}
	n, err := signalRunning(sig, exe)
	if err == nil && n == 0 {
		err = fmt.Errorf("no process runs %s in this PID namespace (a pod needs shareProcessNamespace: true)", program)
	}
	return n, err
}

// signalRunning sends sig to every process other than this one whose
// executable is the file exe and returns how many it signalled.
func signalRunning(sig syscall.Signal, exe os.FileInfo) (int, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	me := os.Getpid()
	n := 0
	var errs []error
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == me {
			continue
		}
		// Stat follows the link to the file itself: the same inode means the
		// same executable whatever path or mount namespace it was started from.
		fi, err := os.Stat(filepath.Join("/proc", d.Name(), "exe"))
		if err != nil || !os.SameFile(fi, exe) {
			continue
		}
		if err := syscall.Kill(pid, sig); err != nil {
			if !errors.Is(err, syscall.ESRCH) { // gone meanwhile
				errs = append(errs, fmt.Errorf("pid %d: %w", pid, err))
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

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
// of the PID namespace running the same executable. Runners without a
// process freeze of their own (Kubernetes) exec it in the node's pod, whose
// containers share one PID namespace so that the node is not PID 1, to
// which the kernel would not deliver SIGSTOP from inside.
const SignalCommand = "signal"

// signals maps the subcommand's argument to its signal.
var signals = map[string]syscall.Signal{"stop": syscall.SIGSTOP, "cont": syscall.SIGCONT}

// signalMain runs "signal stop|cont"; it prints how many processes it
// signalled. Exit codes: 0 done, 1 no process found or a signal failed,
// 2 usage.
func signalMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || signals[args[0]] == 0 {
		fmt.Fprintln(stderr, "usage: simnode signal stop|cont")
		return 2
	}
	n, err := SignalPeers(signals[args[0]])
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
		if err != nil || !os.SameFile(fi, self) {
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
	if err := errors.Join(errs...); err != nil {
		return n, err
	}
	if n == 0 {
		return 0, errors.New("no other process runs this executable in this PID namespace " +
			"(a pod needs shareProcessNamespace: true)")
	}
	return n, nil
}

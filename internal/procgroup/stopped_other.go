//go:build unix && !linux

package procgroup

import "time"

// WaitStopped would wait until process pid is stopped by a signal. Without
// /proc there is no portable way to see it, so it waits a short fixed time.
func WaitStopped(pid int, timeout time.Duration) error {
	time.Sleep(min(timeout, 50*time.Millisecond))
	return nil
}

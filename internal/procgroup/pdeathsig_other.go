//go:build unix && !linux

package procgroup

import "syscall"

// ParentDeathSignal reports whether children die with this process even when
// it is killed without a chance to clean up. Only Linux offers it; elsewhere
// children are stopped by Teardown and by the signal handler of the caller.
const ParentDeathSignal = false

func setParentDeathSignal(*syscall.SysProcAttr) {}

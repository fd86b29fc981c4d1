package procgroup

import "syscall"

// ParentDeathSignal reports whether children die with this process even when
// it is killed without a chance to clean up.
const ParentDeathSignal = true

func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

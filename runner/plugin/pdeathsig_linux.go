package plugin

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the plugin when statectl dies without
// cleaning up (SIGKILL, SIGTERM), so no plugin outlives it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build statectl_testhooks

package incus

import (
	"os"
	"runtime"
	"syscall"
)

// holdEnv names a plan step (create, retry, update, pending:MEMBER,
// member:MEMBER, or converge: the read-back after a create) before which a
// statectl process stops itself (SIGSTOP). The fault tests set it to kill
// statectl at an exact point of a two-phase create. Only binaries built
// with -tags statectl_testhooks (labtest.Binary) have it: a released
// statectl ignores the variable.
const holdEnv = "STATECTL_TEST_HOLD_BEFORE"

func holdBefore(st resStep) {
	v := os.Getenv(holdEnv)
	if v != "" && (v == st.Op || v == st.Op+":"+st.Member) {
		// Sent to this thread, not the process: a process-wide stop may be
		// taken by another thread while this one still sends the step.
		runtime.LockOSThread()
		_ = syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGSTOP)
		runtime.UnlockOSThread()
	}
}

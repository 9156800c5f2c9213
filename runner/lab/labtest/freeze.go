package labtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lab"
)

// Freeze SIGSTOPs member name's daemon and returns a function resuming it
// (also registered as a cleanup, so it runs before the lab's Down). It
// returns once every thread is stopped: a group stop lands thread by
// thread as each is scheduled, and on a loaded machine a running thread
// still answers a request after kill returns.
func Freeze(t testing.TB, l *lab.Lab, name string) (thaw func()) {
	t.Helper()
	m, ok := l.Member(name)
	if !ok {
		t.Fatalf("no lab member %s", name)
	}
	if err := syscall.Kill(m.PID, syscall.SIGSTOP); err != nil {
		t.Fatalf("failed to freeze %s: %v", name, err)
	}
	thawed := false
	thaw = func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(m.PID, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	WaitStopped(t, m.PID)
	return thaw
}

// WaitStopped waits (at most 5 s) until every thread of pid is stopped
// (state T in /proc/PID/task/TID/stat).
func WaitStopped(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !stopped(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d did not stop within 5 s of SIGSTOP", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stopped(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if len(tasks) == 0 {
		return false
	}
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the thread exited
		}
		// The state follows the command name in parentheses.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) || (s[i+2] != 'T' && s[i+2] != 't') {
			return false
		}
	}
	return true
}

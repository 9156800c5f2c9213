package bench

import (
	"bytes"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// ProcessRun is one statectl run as a separate process.
type ProcessRun struct {
	Wall time.Duration // start to exit, process start-up included
	// MaxRSS is ru_maxrss in bytes: an upper bound, not the child's own
	// peak. Go starts the child with CLONE_VM, and Linux carries the
	// parent's high-water RSS into the child's ru_maxrss at exec, so it is
	// max(this process's RSS, statectl's peak). For statectl's own peak
	// use `/usr/bin/time -f %M` (docs/benchmarks.md).
	MaxRSS int64
	// CPU is user + system time of the process. On a shared machine it
	// varies less than Wall, which also counts waiting for a core.
	CPU      time.Duration
	ExitCode int
	Stdout   []byte
}

// RunProcess runs bin with args and reports its wall time, CPU time and peak RSS
// (ru_maxrss of the child, which Linux reports in KiB). A non-zero exit is
// not an error: the caller decides what the code means.
func RunProcess(bin string, args ...string) (*ProcessRun, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		return nil, fmt.Errorf("failed to run %s: %w", bin, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil, fmt.Errorf("no rusage for %s", bin)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r := &ProcessRun{Wall: wall, MaxRSS: ru.Maxrss * 1024, CPU: cpu, ExitCode: cmd.ProcessState.ExitCode(), Stdout: out.Bytes()}
	if r.ExitCode != 0 && r.ExitCode != 3 {
		return r, fmt.Errorf("%s exited %d: %s", bin, r.ExitCode, errb.String())
	}
	return r, nil
}

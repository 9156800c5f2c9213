// Command statectl is a Salt-style declarative state runner for Incus
// cluster membership. See runner/cli.
package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/statectl/statectl/runner/cli"
)

// Start-up garbage collection. A statectl process starts with an empty
// heap, and Go's first GC goal is 4 MB: the 1,000-state chain (15 MB
// allocated, about 5 MB live) went through 4-5 collections, with write
// barriers on for much of the run, which cost a third of its
// instructions (docs/benchmarks.md, issue 8). Most commands (CI applies,
// render, plan) end well within startWindow, so GC is off until then,
// bounded by startHeapLimit: past it the runtime collects as usual for a
// memory limit. After startWindow (watch, long applies against Incus)
// the default pacing comes back. GOGC or GOMEMLIMIT in the environment
// win over both.
const (
	startWindow    = time.Second
	startHeapLimit = 64 << 20
)

// startGC turns GC off up to startHeapLimit and returns the function that
// brings the default pacing back, or does nothing and returns nil when
// the environment sets GOGC or GOMEMLIMIT.
func startGC(getenv func(string) string) (restore func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return nil
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(startHeapLimit)
	return func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

func main() {
	os.Exit(run())
}

func run() int {
	if restore := startGC(os.Getenv); restore != nil {
		time.AfterFunc(startWindow, restore)
	}
	// STATECTL_CPUPROFILE=FILE writes a CPU profile of the whole command
	// (undocumented: for profiling statectl as CI and watch start it).
	if path := os.Getenv("STATECTL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "failed to create CPU profile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "failed to start CPU profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	return cli.Main(os.Args[1:], os.Stdout, os.Stderr)
}

package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// gcSettings reads the GC percent and memory limit without changing them.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestStartGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	for _, tc := range []struct {
		name string
		env  map[string]string
		// want* are the settings after startGC; restore brings 100 and no limit.
		wantPercent int
		wantLimit   int64
		wantRestore bool
	}{
		{"default", nil, -1, startHeapLimit, true},
		{"GOGC set", map[string]string{"GOGC": "50"}, 100, math.MaxInt64, false},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			restore := startGC(func(k string) string { return tc.env[k] })
			if p, l := gcSettings(); p != tc.wantPercent || l != tc.wantLimit {
				t.Errorf("after startGC: GC percent %d, memory limit %d; want %d, %d", p, l, tc.wantPercent, tc.wantLimit)
			}
			if (restore != nil) != tc.wantRestore {
				t.Fatalf("restore returned: %v, want %v", restore != nil, tc.wantRestore)
			}
			if restore == nil {
				return
			}
			restore()
			if p, l := gcSettings(); p != 100 || l != math.MaxInt64 {
				t.Errorf("after restore: GC percent %d, memory limit %d; want 100, no limit", p, l)
			}
		})
	}
}

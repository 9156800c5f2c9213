package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Binary builds the statectl binary once per test process and returns its
// path, for tests that run statectl as a process (signals, locks, watch).
// It is built with the statectl_testhooks tag: the fault tests stop it at
// exact points (see modules/incus/testhooks_on.go).
// Call RemoveBinary from TestMain after m.Run.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "statectl-test-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "statectl")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goBin, "build", "-tags", "statectl_testhooks", "-o", binPath, "github.com/statectl/statectl/runner/cmd/statectl").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// RemoveBinary removes what Binary built, if anything.
func RemoveBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

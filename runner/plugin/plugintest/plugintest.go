// Package plugintest builds plugin binaries for tests: the real
// executables, run out of process, so a test of a plugin tests what users
// run. Builds are cached for the life of the test binary; call Main from
// TestMain to remove them afterwards.
package plugintest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// File is the import path of the example plugin.
const File = "github.com/statectl/statectl/runner/cmd/statectl-module-file"

var (
	mu     sync.Mutex
	cache  string
	builds = map[string]string{}
)

// Main runs the tests, then removes the cached builds.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if cache != "" {
		os.RemoveAll(cache)
	}
	return code
}

// Build compiles the main package pkg (an import path) once per test
// binary and returns the executable.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if bin, ok := builds[pkg]; ok {
		return bin
	}
	if cache == "" {
		dir, err := os.MkdirTemp("", "statectl-plugintest-")
		if err != nil {
			tb.Fatal(err)
		}
		cache = dir
	}
	bin := filepath.Join(cache, filepath.Base(pkg))
	if err := BuildTo(bin, pkg); err != nil {
		tb.Fatal(err)
	}
	builds[pkg] = bin
	return bin
}

// BuildTo compiles the main package pkg into the executable bin.
func BuildTo(bin, pkg string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, out.String())
	}
	return nil
}

// Install links bin into dir as the plugin of module name and returns
// its path.
func Install(tb testing.TB, bin, dir, name string) string {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "statectl-module-"+name)
	if err := os.Symlink(bin, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

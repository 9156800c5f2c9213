package plugin

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/plugin/plugintest"
)

const helperEnv = "STATECTL_PLUGIN_TEST_PARENT"

// TestDiesWithParent: a statectl killed outright (no cleanup runs) takes
// its plugins with it. The test re-runs its own binary as the "statectl"
// that starts the plugin, then SIGKILLs it.
func TestDiesWithParent(t *testing.T) {
	dir := t.TempDir()
	plugintest.Install(t, plugintest.Build(t, plugintest.File), dir, "file")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperParent$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "plugin pid "))
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("plugin %d not running under the helper", pid)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d outlived its killed parent", pid)
		}
	}
}

// TestHelperParent is the parent process of TestDiesWithParent; it does
// nothing in a normal run.
func TestHelperParent(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	h := NewHost(Options{Dirs: []string{dir}})
	m, err := h.Resolve("file")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Printf("plugin pid %d\n", m.(*Plugin).proc.cmd.Process.Pid)
	time.Sleep(time.Minute)
	os.Exit(1)
}

// alive reports whether pid runs (a zombie no reaper collected is dead).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

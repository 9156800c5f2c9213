package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/compile"
	"github.com/statectl/statectl/runner/engine"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/module/conformance"
	"github.com/statectl/statectl/runner/modules/file/filetest"
	"github.com/statectl/statectl/runner/plugin/plugintest"
	"github.com/statectl/statectl/runner/state"
)

const misbehavePkg = "github.com/statectl/statectl/runner/plugin/internal/testplugins/misbehave"

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// testHost installs the named test plugins ("file", or a misbehave
// personality) in a fresh directory and returns a host on it.
func testHost(t *testing.T, opts Options, names ...string) *Host {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		pkg := misbehavePkg
		if n == "file" {
			pkg = plugintest.File
		}
		plugintest.Install(t, plugintest.Build(t, pkg), dir, n)
	}
	opts.Dirs = []string{dir}
	if opts.Logger == nil {
		opts.Logger = NewLogger(testWriter{t}, "warn")
	}
	h := NewHost(opts)
	t.Cleanup(func() { h.Close() })
	return h
}

// testWriter sends the plugin log to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func registry(h *Host) *module.Registry {
	reg := module.NewRegistry()
	reg.SetResolver(h)
	return reg
}

// TestLazyStart: listing modules starts nothing; the first lookup starts
// the plugin once.
func TestLazyStart(t *testing.T) {
	h := testHost(t, Options{}, "file", "misbehave")
	reg := registry(h)
	if got := strings.Join(reg.Names(), ","); got != "file,misbehave" {
		t.Fatalf("names = %s", got)
	}
	if len(h.started) != 0 {
		t.Fatalf("listing started %d plugins", len(h.started))
	}
	for range 3 {
		if _, _, ok := reg.Func("file", "managed"); !ok {
			t.Fatal("file.managed not found")
		}
	}
	if len(h.started) != 1 || h.started[0].name != "file" {
		t.Fatalf("started = %v, want only file, once", h.started)
	}
}

// TestFileConformance runs the file module through the plugin binary, out
// of process, against the same case as the in-process module.
func TestFileConformance(t *testing.T) {
	h := testHost(t, Options{}, "file")
	m, ok := registry(h).Get("file")
	if !ok {
		t.Fatalf("file plugin did not load: %v", registry(h).Err("file"))
	}
	conformance.Run(t, filetest.Case(t, m))
}

// run compiles sls (an SLS body) and executes it with the test plugins.
func run(t *testing.T, reg *module.Registry, sls string, opts engine.Options) *engine.Run {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "t.sls"), []byte(sls), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := compile.SLS(compile.Options{Root: root, Registry: reg}, "t")
	if err != nil {
		t.Fatal(err)
	}
	return engine.Execute(context.Background(), c, reg, opts)
}

func results(r *engine.Run) map[string]*state.Result {
	out := map[string]*state.Result{}
	for _, x := range r.Results {
		out[x.ID] = x
	}
	return out
}

// TestCallFailures: a plugin that crashes, hangs or panics fails the state
// it serves with a comment saying so, and the run goes on (the crashed
// plugin restarts for the next state); failhard stops it.
func TestCallFailures(t *testing.T) {
	h := testHost(t, Options{}, "misbehave")
	tests := []struct {
		name     string
		sls      string
		opts     engine.Options
		comment  []string // substrings of the failed state's comment
		afterRan bool     // the state after the failing one ran (and succeeded)
	}{
		{name: "crash mid-call", sls: "bad:\n  misbehave.crash\nafter:\n  misbehave.ok\n",
			comment:  []string{"plugin misbehave crashed during apply (exit status 2)", `it said: "panic: misbehave: simulated crash"`},
			afterRan: true},
		{name: "crash with failhard", sls: "bad:\n  misbehave.crash\nafter:\n  misbehave.ok\n",
			opts:    engine.Options{Failhard: true},
			comment: []string{"plugin misbehave crashed during apply"}},
		{name: "hang cut off at the state's timeout", sls: "bad:\n  misbehave.hang:\n    - timeout: 1\nafter:\n  misbehave.ok\n",
			comment: []string{"State timed out after 1s during plan"}, afterRan: true},
		{name: "hang cut off at the default timeout", sls: "bad:\n  misbehave.hang\nafter:\n  misbehave.ok\n",
			opts:    engine.Options{DefaultTimeout: 300 * time.Millisecond},
			comment: []string{"State timed out after 300ms during plan"}, afterRan: true},
		{name: "panic", sls: "bad:\n  misbehave.panic\nafter:\n  misbehave.ok\n",
			comment: []string{"module panicked during plan: misbehave: deliberate panic"}, afterRan: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, registry(h), tt.sls, tt.opts)
			res := results(r)
			bad := res["bad"]
			if bad == nil || !bad.Failed() {
				t.Fatalf("bad: %+v, want failed", bad)
			}
			for _, want := range tt.comment {
				if !strings.Contains(bad.Comment, want) {
					t.Errorf("comment %q lacks %q", bad.Comment, want)
				}
			}
			after := res["after"]
			if tt.afterRan {
				if after == nil || !after.Succeeded() {
					t.Fatalf("after: %+v, want run and succeeded", after)
				}
			} else if after != nil || !r.Failhard || r.NotRun != 1 {
				t.Fatalf("after = %+v, stopped %t, not run %d: want stopped before it", after, r.Failhard, r.NotRun)
			}
		})
	}
}

// TestDeadlineAndCancel: the state's deadline reaches the plugin, and the
// plugin's context ends when the state's does.
func TestDeadlineAndCancel(t *testing.T) {
	h := testHost(t, Options{}, "misbehave")
	r := run(t, registry(h), "d:\n  misbehave.deadline\n", engine.Options{DefaultTimeout: time.Minute})
	if got := r.Results[0].Comment; got != "deadline in 1m0s" {
		t.Errorf("deadline comment = %q, want %q", got, "deadline in 1m0s")
	}
	marker := filepath.Join(t.TempDir(), "cancelled")
	r = run(t, registry(h), marker+":\n  misbehave.cancel\n", engine.Options{DefaultTimeout: 200 * time.Millisecond})
	if !r.Results[0].Failed() {
		t.Fatalf("cancel state: %+v, want failed", r.Results[0])
	}
	// The plugin writes the marker when its context ends.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// os.WriteFile creates the file before writing: wait for content.
		data, err := os.ReadFile(marker)
		if err == nil && len(data) > 0 {
			if !strings.Contains(string(data), "context") {
				t.Fatalf("marker = %q", data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the plugin's context never ended")
		}
	}
}

// TestRefused: executables that are not plugins for this statectl are
// refused at start with a message naming them, and their module is then
// reported missing with that error.
func TestRefused(t *testing.T) {
	script := filepath.Join(t.TempDir(), "statectl-module-script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'I am just a script'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fileBin := plugintest.Build(t, plugintest.File)
	data, err := os.ReadFile(fileBin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("0", 64)

	tests := []struct {
		name    string
		plugin  string
		pins    map[string]string
		wantErr []string // "" means it must load
	}{
		{name: "wrong handshake cookie", plugin: "badcookie",
			wantErr: []string{"plugin badcookie (", "statectl-module-badcookie): refusing it: not a statectl plugin", "it printed: \"This binary is a plugin. These are not meant to be executed directly."}},
		{name: "not a plugin at all", plugin: "script",
			wantErr: []string{"statectl-module-script): refusing it: not a statectl plugin", "I am just a script"}},
		{name: "newer protocol version", plugin: "future",
			wantErr: []string{"statectl-module-future): refusing it: it speaks plugin protocol version 2, this statectl speaks 1; upgrade statectl"}},
		{name: "module name differs from the file name", plugin: "wrongname",
			wantErr: []string{`serves module "other", but its file name says "wrongname"`}},
		{name: "sha256 pin mismatch", plugin: "file", pins: map[string]string{"file": bad},
			wantErr: []string{"refusing to run it: its sha256 is " + good + ", but statectl.yaml pins " + bad}},
		{name: "sha256 pin match", plugin: "file", pins: map[string]string{"file": strings.ToUpper(good)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *Host
			if tt.plugin == "script" {
				h = NewHost(Options{Dirs: []string{filepath.Dir(script)}, Logger: NewLogger(testWriter{t}, "warn")})
				t.Cleanup(func() { h.Close() })
			} else {
				h = testHost(t, Options{Pins: tt.pins}, tt.plugin)
			}
			reg := registry(h)
			m, ok := reg.Get(tt.plugin)
			if len(tt.wantErr) == 0 {
				if !ok {
					t.Fatalf("refused: %v", reg.Err(tt.plugin))
				}
				if m.Name() != tt.plugin {
					t.Fatalf("name = %s", m.Name())
				}
				return
			}
			if ok {
				t.Fatal("loaded, want refused")
			}
			err := reg.Err(tt.plugin)
			if err == nil {
				t.Fatal("no error recorded")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestClose: closing the host stops its plugin processes and waits for
// them; Cleanup does the same for a plugin nobody closed.
func TestClose(t *testing.T) {
	for _, how := range []string{"Host.Close", "Cleanup"} {
		t.Run(how, func(t *testing.T) {
			h := testHost(t, Options{}, "file")
			m, ok := registry(h).Get("file")
			if !ok {
				t.Fatal(registry(h).Err("file"))
			}
			pid := m.(*Plugin).proc.cmd.Process.Pid
			if err := syscall.Kill(pid, 0); err != nil {
				t.Fatalf("plugin %d not running: %v", pid, err)
			}
			if how == "Cleanup" {
				Cleanup()
			} else {
				h.Close()
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("plugin %d still exists after %s (kill 0: %v)", pid, how, err)
			}
		})
	}
}

// TestTypedPlansOverTheWire: a plugin's plan action and sent values reach
// the states after it as Upstream, through the plugin protocol both ways
// (before they were in the wire, a plugin saw no Upstream and its Action
// and Send were dropped).
func TestTypedPlansOverTheWire(t *testing.T) {
	h := testHost(t, Options{}, "misbehave")
	sls := "first:\n  misbehave.send:\n    - name: fp1\nsecond:\n  misbehave.recv\n"
	tests := []struct {
		name string
		opts engine.Options
		want string
	}{
		{"test mode", engine.Options{Test: true}, "upstream: /first misbehave.send action=create status=pending value=fp1"},
		{"apply", engine.Options{}, "upstream: /first misbehave.send action=create status=applied value=fp1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := results(run(t, registry(h), sls, tt.opts))
			if got := res["second"]; got == nil || got.Comment != tt.want {
				t.Fatalf("second: %+v\nwant comment %q", got, tt.want)
			}
		})
	}
}

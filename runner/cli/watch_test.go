package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/statectl/statectl/runner/watch"
)

// TestWatchPassesShareNothing: each watch pass renders the state tree and
// the pillar afresh and drops its connection pool and renderer, so an
// edit between two passes (no SIGHUP) is what the next pass runs.
func TestWatchPassesShareNothing(t *testing.T) {
	dir := t.TempDir()
	const appSLS = "{% for i in range(pillar['n']) %}\nstate-{{ i }}:\n  test.succeed_without_changes: []\n{% endfor %}\n"
	files := map[string]string{
		"roster.yaml":     "node2: {}\n",
		"statectl.yaml":   "{}\n",
		"states/top.sls":  "base:\n  '*':\n    - app\n",
		"states/app.sls":  appSLS,
		"pillar/top.sls":  "base:\n  '*':\n    - site\n",
		"pillar/site.sls": "n: 1\n",
	}
	for name, data := range files {
		write(t, filepath.Join(dir, name), data)
	}
	args := []string{"watch", "node2", "--states", filepath.Join(dir, "states"), "--pillar", filepath.Join(dir, "pillar"),
		"--roster", filepath.Join(dir, "roster.yaml"), "--config", filepath.Join(dir, "statectl.yaml"),
		"--lock-dir", filepath.Join(dir, "locks")}
	w, log, stderr := testWatcher(t, "node2", args)

	pass := func(seq int, trigger watch.Trigger) watch.Record {
		t.Helper()
		log.Reset()
		if out := w.pass(context.Background(), watch.PassInfo{Seq: seq, Trigger: trigger}); out != watch.OK {
			t.Fatalf("pass %d: %s\nstderr:\n%s", seq, out, stderr.String())
		}
		var rec watch.Record
		if err := json.Unmarshal(log.Bytes(), &rec); err != nil {
			t.Fatalf("pass %d record %q: %v", seq, log.String(), err)
		}
		return rec
	}
	if rec := pass(1, watch.Start); rec.States != 1 {
		t.Fatalf("first pass: %+v", rec)
	}
	// The pillar changes between passes, then a state file.
	write(t, filepath.Join(dir, "pillar/site.sls"), "n: 2\n")
	if rec := pass(2, watch.Interval); rec.States != 2 {
		t.Fatalf("second pass did not read the edited pillar: %+v", rec)
	}
	write(t, filepath.Join(dir, "states/app.sls"), appSLS+"changer:\n  test.succeed_with_changes: []\n")
	if rec := pass(3, watch.Interval); rec.States != 3 || rec.Changed != 1 {
		t.Fatalf("third pass did not render the edited state file: %+v", rec)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatchLogFileMode: the watch log is created 0600 (it was 0644, world
// readable), whatever the umask.
func TestWatchLogFileMode(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "watch.log")
	f, err := openLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

// testWatcher is an in-process watcher of expr built from the watch
// command line args; passes are run by hand (w.pass). It returns the
// watcher, its record log and its stderr.
func testWatcher(t *testing.T, expr string, args []string) (*watcher, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr, log bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, ctx: context.Background()}
	a.flags = newFlags(&a.opts)
	if err := a.flags.Parse(args); err != nil {
		t.Fatal(err)
	}
	if err := a.loadConfig(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{a: a, args: args, expr: expr, rec: watch.NewRecorder(&log),
		events: watch.NewEvents(), listeners: map[string]context.CancelFunc{}}
	t.Cleanup(w.stopListeners)
	return w, &log, &stderr
}

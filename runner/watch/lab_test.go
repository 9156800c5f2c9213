package watch_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/watch"
)

// The CLI-level tests run the real statectl binary (signals, separate
// processes holding locks) against real incusd daemons.

func TestMain(m *testing.M) {
	code := m.Run()
	labtest.RemoveBinary()
	os.Exit(code)
}

// env is a lab plus the flags every statectl call gets.
type env struct {
	t     testing.TB
	lab   *lab.Lab
	bin   string
	dir   string
	flags []string
}

func newEnv(t testing.TB, members int) *env {
	bin := labtest.Binary(t)
	l := labtest.Start(t, members)
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "statectl.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, lab: l, bin: bin, dir: dir, flags: []string{
		"--states", filepath.Join(root, "states"),
		"--pillar", l.PillarDir(),
		"--roster", l.RosterPath(),
		"--lock-dir", filepath.Join(dir, "locks"),
		"--config", filepath.Join(dir, "statectl.yaml"),
		"--no-color",
	}}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs statectl to completion.
func (e *env) run(args ...string) result {
	e.t.Helper()
	cmd := exec.Command(e.bin, append(args, e.flags...)...)
	cmd.Dir = e.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// must runs statectl and requires exit code want.
func (e *env) must(want int, args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != want {
		e.t.Fatalf("statectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

// client connects to a member over its unix socket, as `incus` would.
func (e *env) client(name string) incus.InstanceServer {
	e.t.Helper()
	return labtest.Client(e.t, e.lab, name)
}

// setConfig is `incus config set KEY VALUE` on member name.
func (e *env) setConfig(name, key, value string) {
	e.t.Helper()
	c := e.client(name)
	srv, etag, err := c.GetServer()
	if err != nil {
		e.t.Fatal(err)
	}
	put := srv.Writable()
	put.Config[key] = value
	if err := c.UpdateServer(put, etag); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) config(name, key string) string {
	e.t.Helper()
	srv, _, err := e.client(name).GetServer()
	if err != nil {
		e.t.Fatal(err)
	}
	return srv.Config[key]
}

// watcher is a running `statectl watch`.
type watcher struct {
	t       testing.TB
	cmd     *exec.Cmd
	log     string
	mu      sync.Mutex
	stderr  strings.Builder
	metrics string
	done    chan error
}

var metricsLine = regexp.MustCompile(`metrics on http://(\S+)/metrics`)

// watch starts statectl watch with a JSON log and a metrics endpoint.
func (e *env) watch(args ...string) *watcher {
	e.t.Helper()
	w := &watcher{t: e.t, log: filepath.Join(e.dir, fmt.Sprintf("watch-%d.jsonl", time.Now().UnixNano())), done: make(chan error, 1)}
	full := append([]string{"watch"}, args...)
	full = append(full, "--log-file", w.log, "--metrics-addr", "127.0.0.1:0")
	w.cmd = exec.Command(e.bin, append(full, e.flags...)...)
	w.cmd.Dir = e.dir
	pr, pw := io.Pipe()
	w.cmd.Stderr = pw
	if err := w.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			w.mu.Lock()
			w.stderr.WriteString(sc.Text() + "\n")
			if m := metricsLine.FindStringSubmatch(sc.Text()); m != nil {
				w.metrics = m[1]
			}
			w.mu.Unlock()
		}
	}()
	go func() { err := w.cmd.Wait(); pw.Close(); w.done <- err }()
	e.t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			_ = w.cmd.Process.Kill()
			<-w.done
		}
		if e.t.Failed() {
			e.t.Logf("watch stderr:\n%s", w.stderrText())
		}
	})
	return w
}

func (w *watcher) stderrText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

func (w *watcher) records() []watch.Record {
	data, _ := os.ReadFile(w.log)
	var out []watch.Record
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var r watch.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			w.t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// waitRecord waits (up to limit) for a record after the first `after`
// matching ok.
func (w *watcher) waitRecord(after int, limit time.Duration, ok func(watch.Record) bool) (watch.Record, int) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		recs := w.records()
		for i := after; i < len(recs); i++ {
			if ok(recs[i]) {
				return recs[i], i + 1
			}
		}
		select {
		case err := <-w.done:
			w.done <- err
			w.t.Fatalf("watch exited early: %v\nstderr:\n%s", err, w.stderrText())
		case <-time.After(100 * time.Millisecond):
		}
	}
	w.t.Fatalf("no matching pass record within %s; records: %+v", limit, w.records())
	return watch.Record{}, 0
}

// stop sends SIGTERM and waits for the exit status.
func (w *watcher) stop() int {
	w.t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		w.t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		w.t.Fatal("watch did not exit after SIGTERM")
	}
	return w.cmd.ProcessState.ExitCode()
}

func (w *watcher) scrape(path string) (int, string) {
	w.t.Helper()
	w.mu.Lock()
	addr := w.metrics
	w.mu.Unlock()
	if addr == "" {
		w.t.Fatalf("no metrics address in stderr:\n%s", w.stderrText())
	}
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

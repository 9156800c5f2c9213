package watch_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/watch"
)

// waitStderr waits (up to limit) until the watcher's stderr contains s.
func (w *watcher) waitStderr(s string, limit time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(w.stderrText(), s) {
		if time.Now().After(deadline) {
			w.t.Fatalf("no %q in watch stderr within %s:\n%s", s, limit, w.stderrText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *watcher) signal(sig syscall.Signal) {
	w.t.Helper()
	if err := w.cmd.Process.Signal(sig); err != nil {
		w.t.Fatal(err)
	}
}

// daemonSignal sends sig to member name's incusd.
func (e *env) daemonSignal(name string, sig syscall.Signal) {
	e.t.Helper()
	m, _ := e.lab.Member(name)
	if err := syscall.Kill(m.PID, sig); err != nil {
		e.t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		labtest.WaitStopped(e.t, m.PID)
	}
}

// TestWatchFollowsClusterAndFailsOver: a watcher of node2 reacts to a
// change made through node3; SIGHUP applies an edited pillar; when node2
// freezes, its events come through another member, its passes fail and
// back off, and it converges once node2 answers again; that member then
// carries node2's own member-local change; when it dies in turn, the
// watcher follows node2 again. Every pass that changed nothing wrote
// nothing, and no-op passes read the same: no pass reuses another's
// connections or answers.
func TestWatchFollowsClusterAndFailsOver(t *testing.T) {
	e := newEnv(t, 3)
	e.formCluster("node*")
	w := e.watch("node2", "--interval", "1h", "--debounce", "300ms", "--event-timeout", "1s")
	first, seen := w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
	if first.Outcome != "ok" || first.Changed != 0 || first.Writes != 0 || first.Reads == 0 {
		t.Fatalf("first pass on a converged cluster: %+v", first)
	}
	w.waitStderr("node2: following events via node2", 10*time.Second)

	// SIGHUP: the pillar now manages node2's member-local metrics address.
	m2, _ := e.lab.Member("node2")
	metrics := net.JoinHostPort(m2.IP(), "9100")
	pillar := e.lab.PillarDir()
	writeFile(t, filepath.Join(pillar, "top.sls"), "base:\n  '*':\n    - incus\n  node2:\n    - metrics\n")
	writeFile(t, filepath.Join(pillar, "metrics.sls"),
		fmt.Sprintf("incus:\n  server_settings:\n    config:\n      core.metrics_address: %q\n", metrics))
	if n := len(w.records()); n != seen {
		t.Fatalf("a pass ran before SIGHUP: %+v", w.records()[seen:])
	}
	w.signal(syscall.SIGHUP)
	rec, seen := w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Trigger == watch.Reload })
	if rec.Outcome != "ok" || rec.Corrected != 1 || rec.Writes == 0 {
		t.Fatalf("reload pass: %+v", rec)
	}
	if v := e.config("node2", "core.metrics_address"); v != metrics {
		t.Fatalf("core.metrics_address = %q after the reload pass, want %q", v, metrics)
	}

	// Drift through another member, heard on node2's stream.
	t0 := time.Now()
	e.setConfig("node3", driftKey, "9")
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Event || rec.Corrected != 1 {
		t.Fatalf("correction of a change through node3: %+v", rec)
	}
	w.waitStderr("event config-updated on node3 via node2", time.Second)
	t.Logf("change through node3: latency %s from the change's start", since(rec, t0))
	// The correction's own event runs no pass (the window is 300ms).
	time.Sleep(time.Second)
	if recs := w.records(); len(recs) != seen {
		t.Fatalf("passes after the correction: %+v", recs[seen:])
	}
	noop := len(w.records()) // passes so far: the no-op ones read alike

	// node2 freezes: its socket stays open; the missed pongs move the
	// stream to node1. Passes fail (node2 does not answer) and back off.
	e.daemonSignal("node2", syscall.SIGSTOP)
	frozen := true
	t.Cleanup(func() {
		if frozen {
			e.daemonSignal("node2", syscall.SIGCONT)
		}
	})
	t0 = time.Now()
	w.waitStderr("node2: event stream reconnected via node1", 30*time.Second)
	t.Logf("node2 frozen: events followed via node1 after %s (event timeout 1s)", time.Since(t0).Round(time.Millisecond))
	// No config change meanwhile: Incus notifies every member it deems
	// alive of one, and waits for the frozen one.
	// The reconnection runs a pass; it fails and is retried.
	for rec.Trigger != watch.Retry {
		rec, seen = w.waitRecord(seen, time.Minute, func(watch.Record) bool { return true })
		if rec.Outcome != "failed" || !strings.Contains(rec.Error, "cluster unreachable") {
			t.Fatalf("pass while node2 is frozen: %+v", rec)
		}
		t.Logf("pass %d (%s) failed after %.0fms: %s", rec.Pass, rec.Trigger, rec.DurationMS, rec.Error)
		if rec.Pass > noop+3 {
			t.Fatalf("pass %d: failed passes do not back off", rec.Pass)
		}
	}
	e.daemonSignal("node2", syscall.SIGCONT)
	frozen = false
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Outcome == "ok" })
	if rec.Trigger != watch.Retry || rec.Failed != 0 {
		t.Fatalf("first pass after node2 answers again: %+v", rec)
	}

	// Still on node1's stream: node2's own member-local change, and one
	// through node3, reach it.
	t0 = time.Now()
	e.setConfig("node2", "core.metrics_address", net.JoinHostPort(m2.IP(), "9101"))
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Event {
		t.Fatalf("correction of node2's member-local change: %+v", rec)
	}
	w.waitStderr("event config-updated on node2 via node1", time.Second)
	t.Logf("member-local change on node2 heard via node1: detection-to-correction latency %s", since(rec, t0))
	if v := e.config("node2", "core.metrics_address"); v != metrics {
		t.Fatalf("core.metrics_address = %q after correction, want %q", v, metrics)
	}
	t0 = time.Now()
	e.setConfig("node3", driftKey, "8")
	rec, seen = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Event {
		t.Fatalf("correction of a change through node3: %+v", rec)
	}
	w.waitStderr("event config-updated on node3 via node1", time.Second)
	t.Logf("change through node3 heard via node1: detection-to-correction latency %s", since(rec, t0))

	// node1, whose stream the watcher follows, dies: back to node2.
	e.daemonSignal("node1", syscall.SIGTERM)
	t0 = time.Now()
	w.waitStderr("node2: event stream reconnected via node2", 30*time.Second)
	t.Logf("node1 stopped: events followed via node2 after %s", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	e.setConfig("node3", driftKey, "7")
	t.Logf("the set through node3 took %s", time.Since(t0).Round(time.Millisecond))
	rec, _ = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Event || rec.Outcome != "ok" {
		t.Fatalf("correction with node1 down: %+v", rec)
	}
	w.waitStderr("event config-updated on node3 via node2", time.Second)
	t.Logf("node1 down, change through node3: detection-to-correction latency %s", since(rec, t0))
	if code := w.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}

	recs := w.records()
	for i, r := range recs {
		if r.Outcome == "ok" && r.Changed == 0 && r.Writes != 0 {
			t.Errorf("no-op pass %d wrote: %+v", r.Pass, r)
		}
		if i < noop && r.Outcome == "ok" && r.Changed == 0 && r.Reads != first.Reads {
			t.Errorf("no-op pass %d read %d times, the first %d: %+v", r.Pass, r.Reads, first.Reads, r)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

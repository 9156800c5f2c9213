package watch_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/clusterlock"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/watch"
)

// lifecycle collects the config-updated lifecycle events of a lab, as
// `incus monitor --type=lifecycle` on each member shows them, deduplicated
// (a member may forward another's events).
type lifecycle struct {
	mu   sync.Mutex
	seen map[string]bool
	n    int
}

func (e *env) monitor(members ...string) *lifecycle {
	e.t.Helper()
	l := &lifecycle{seen: map[string]bool{}}
	for _, m := range members {
		ev, err := e.client(m).GetEvents()
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(ev.Disconnect)
		if _, err := ev.AddHandler([]string{"lifecycle"}, func(ev api.Event) {
			var lc api.EventLifecycle
			if json.Unmarshal(ev.Metadata, &lc) != nil || lc.Action != "config-updated" {
				return
			}
			key := ev.Timestamp.UTC().Format(time.RFC3339Nano) + "|" + ev.Location + "|" + lc.Source
			l.mu.Lock()
			defer l.mu.Unlock()
			if !l.seen[key] {
				l.seen[key] = true
				l.n++
			}
		}); err != nil {
			e.t.Fatal(err)
		}
	}
	return l
}

func (l *lifecycle) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// TestManyCorrectorsOneWrite: three watchers, each with its own lock
// directory (as on three machines), all hear a cluster-wide out-of-band
// `config set`: in one deployment each follows its own member (as a unit
// per member runs `statectl watch local`), in the other each follows every
// member (as watchers on three admin machines do). The writes that land (config-updated lifecycle events,
// as `incus monitor --type=lifecycle` counts them) match the corrections
// the watchers report, exactly one lands per drift, and nobody flaps: no
// event and no pass follows the convergence. The cluster lock is gone
// when they have settled.
func TestManyCorrectorsOneWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expr   func(member string) string
		drifts int
	}{
		{"one per member", func(m string) string { return m }, 3},
		{"admin machines", func(string) string { return "node*" }, 2},
	} {
		t.Run(tc.name, func(t *testing.T) { manyCorrectors(t, tc.expr, tc.drifts) })
	}
}

func manyCorrectors(t *testing.T, expr func(member string) string, drifts int) {
	e := newEnv(t, 3)
	e.formCluster("node*")
	members := []string{"node1", "node2", "node3"}
	var ws []*watcher
	for i, m := range members {
		own := *e
		own.flags = append([]string{}, e.flags...)
		for j, f := range own.flags {
			if f == "--lock-dir" {
				own.flags[j+1] = filepath.Join(e.dir, fmt.Sprintf("locks-%d", i))
			}
		}
		w := own.watch(expr(m), "--interval", "1h")
		w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
		w.waitStderr(": following events via", 10*time.Second)
		ws = append(ws, w)
	}
	mon := e.monitor(members...)
	quiet := func() {
		// Settled: no record in 3 s (a coalescing window plus a pass);
		// watchers still passing after 30 s flap.
		for start := time.Now(); ; {
			if time.Since(start) > 30*time.Second {
				t.Fatal("the watchers did not settle within 30 s: they flap")
			}
			n := 0
			for _, w := range ws {
				n += len(w.records())
			}
			time.Sleep(3 * time.Second)
			m := 0
			for _, w := range ws {
				m += len(w.records())
			}
			if m == n {
				return
			}
		}
	}
	quiet()
	seen := make([]int, len(ws))
	for i, w := range ws {
		seen[i] = len(w.records())
	}
	for d := 1; d <= drifts; d++ {
		before := mon.count()
		e.setConfig("node3", driftKey, fmt.Sprint(d))
		deadline := time.Now().Add(time.Minute)
		for e.config("node3", driftKey) != "0" {
			if time.Now().After(deadline) {
				t.Fatalf("drift %d not corrected", d)
			}
			time.Sleep(50 * time.Millisecond)
		}
		quiet()
		writes := mon.count() - before - 1 // the drift's own event
		// Nobody flaps: the settled lab stays quiet.
		time.Sleep(3 * time.Second)
		if extra := mon.count() - before - 1 - writes; extra != 0 {
			t.Errorf("drift %d: %d config-updated events after the watchers settled", d, extra)
		}
		corrected, passes := 0, 0
		var summary []string
		for i, w := range ws {
			recs := w.records()
			for _, r := range recs[seen[i]:] {
				passes++
				corrected += r.Corrected
				summary = append(summary, fmt.Sprintf("watcher %d: %s: %s drift=%d corrected=%d writes=%d %s%s", i+1, r.Target, r.Outcome, r.Drift, r.Corrected, r.Writes, r.Error, r.Note))
			}
			seen[i] = len(recs)
		}
		t.Logf("drift %d: %d writes landed, %d passes\n%s", d, writes, passes, strings.Join(summary, "\n"))
		if corrected != writes {
			t.Errorf("drift %d: the watchers report %d corrections, the lab saw %d writes", d, corrected, writes)
		}
		// Exactly one write: the cluster lock serialises the corrections,
		// and whoever comes second plans afresh and finds nothing to do.
		if writes != 1 {
			t.Errorf("drift %d: %d writes landed, want exactly 1", d, writes)
		}
		if v := e.config("node1", driftKey); v != "0" {
			t.Errorf("drift %d: %s = %q after settling, want 0", d, driftKey, v)
		}
	}
	if _, _, err := e.client("node1").GetProfile(clusterlock.Profile); !api.StatusErrorCheck(err, 404) {
		t.Errorf("cluster lock left behind: %v", err)
	}
	for _, w := range ws {
		if code := w.stop(); code != 0 {
			t.Errorf("SIGTERM: exit %d", code)
		}
	}
}

// lockProfile puts a cluster lock in place by hand, as a run on host with
// pid would hold it.
func (e *env) lockProfile(host string, pid int) {
	e.t.Helper()
	h := clusterlock.Holder{Host: host, PID: pid, Function: "state.apply", Target: "node2"}
	if err := e.client("node1").CreateProfile(clusterlock.ProfileOf(h, "c0ffee", time.Hour)); err != nil {
		e.t.Fatal(err)
	}
}

// TestWatchClusterLockHeld: a watcher that finds the cluster lock held by
// a live run elsewhere leaves the drift to it (outcome deferred, the
// holder named, nothing written) and corrects it once the lock is gone; a
// lock left by a run that died on the watcher's own machine is broken at
// once.
func TestWatchClusterLockHeld(t *testing.T) {
	e := newEnv(t, 2)
	e.formCluster("node*")
	w := e.watch("node1", "--interval", "1h", "--cluster-lock-wait", "300ms")
	_, seen := w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })

	e.lockProfile("admin-elsewhere", 4242)
	e.setConfig("node1", driftKey, "7")
	rec, seen := w.waitRecord(seen, 30*time.Second, func(r watch.Record) bool { return r.Outcome == "deferred" })
	if rec.Drift != 1 || rec.Writes != 0 || !strings.Contains(rec.Error, "state.apply for node2 (PID 4242 on admin-elsewhere") {
		t.Fatalf("deferred pass: %+v", rec)
	}
	if v := e.config("node1", driftKey); v != "7" {
		t.Fatalf("written while another run held the lock: %s = %q", driftKey, v)
	}
	if err := e.client("node1").DeleteProfile(clusterlock.Profile); err != nil {
		t.Fatal(err)
	}
	rec, seen = w.waitRecord(seen, 30*time.Second, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Outcome != "ok" || rec.Trigger != watch.Retry || e.config("node1", driftKey) != "0" {
		t.Fatalf("after the lock was released: %+v, %s = %q", rec, driftKey, e.config("node1", driftKey))
	}

	// A run killed on this machine while it held the lock.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	e.lockProfile(host, dead.Process.Pid)
	e.setConfig("node1", driftKey, "8")
	rec, _ = w.waitRecord(seen, 30*time.Second, func(r watch.Record) bool { return r.Corrected > 0 || r.Outcome != "ok" })
	if rec.Outcome != "ok" || e.config("node1", driftKey) != "0" {
		t.Fatalf("abandoned lock: %+v", rec)
	}
	if !strings.Contains(w.stderrText(), "breaking the cluster lock of state.apply for node2") {
		t.Errorf("breaking the lock not logged:\n%s", w.stderrText())
	}
	if _, _, err := e.client("node1").GetProfile(clusterlock.Profile); !api.StatusErrorCheck(err, 404) {
		t.Errorf("cluster lock left behind: %v", err)
	}
	if code := w.stop(); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

// TestWatchKilledHoldingClusterLock: a watcher killed (SIGKILL) in the
// middle of a correction, holding the cluster lock with a storage pool's
// pending entries made and its cluster-wide create not sent, leaves the
// lock behind; the watcher that follows on the same machine breaks it at
// once and finishes the pool. Nothing is left: no lock, no pending pool.
func TestWatchKilledHoldingClusterLock(t *testing.T) {
	e := newEnv(t, 2)
	e.formCluster("node*")
	src := t.TempDir()
	for _, m := range []string{"node1", "node2"} {
		if err := os.Mkdir(filepath.Join(src, m), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	override := fmt.Sprintf(`{"incus": {"storage_pools": {"wp": {"driver": "dir", "members": {"node1": {"source": %q}, "node2": {"source": %q}}}}}}`,
		filepath.Join(src, "node1"), filepath.Join(src, "node2"))
	args := []string{"node1", "--interval", "1h", "--pillar-override", override}

	t.Setenv("STATECTL_TEST_HOLD_BEFORE", "create") // a testhooks build stops itself there
	a := e.watch(args...)
	c := e.client("node1")
	deadline := time.Now().Add(time.Minute)
	for {
		if _, _, err := c.GetProfile(clusterlock.Profile); err == nil {
			if p, _, err := c.GetStoragePool("wp"); err == nil && p.Status == api.StoragePoolStatusPending {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the watcher did not reach the create holding the lock:\n%s", a.stderrText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	labtest.WaitStopped(t, a.cmd.Process.Pid)
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	a.done <- nil
	if _, _, err := c.GetProfile(clusterlock.Profile); err != nil {
		t.Fatalf("the killed watcher's lock is gone already: %v", err)
	}

	os.Setenv("STATECTL_TEST_HOLD_BEFORE", "")
	b := e.watch(args...)
	rec, _ := b.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
	if rec.Outcome != "ok" || rec.Corrected != 1 {
		t.Fatalf("the next watcher's first pass: %+v\n%s", rec, b.stderrText())
	}
	if !strings.Contains(b.stderrText(), "breaking the cluster lock of state.watch for node1 (PID "+fmt.Sprint(a.cmd.Process.Pid)) {
		t.Errorf("breaking the lock not logged:\n%s", b.stderrText())
	}
	if p, _, err := c.GetStoragePool("wp"); err != nil || p.Status != api.StoragePoolStatusCreated {
		t.Fatalf("pool after the second watcher: %v %+v", err, p)
	}
	if _, _, err := c.GetProfile(clusterlock.Profile); !api.StatusErrorCheck(err, 404) {
		t.Errorf("cluster lock left behind: %v", err)
	}
	if code := b.stop(); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}

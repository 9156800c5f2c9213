package watch_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

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
// directory and each following its own member (as a unit per member runs
// `statectl watch local`), all hear a cluster-wide out-of-band
// `config set`. The writes that land (config-updated lifecycle events,
// as `incus monitor --type=lifecycle` counts them) match the corrections
// the watchers report, and nobody flaps: no event and no pass follows the
// convergence. Exactly one write per drift does not hold yet: see below.
func TestManyCorrectorsOneWrite(t *testing.T) {
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
		w := own.watch(m, "--interval", "1h")
		w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
		w.waitStderr(m+": following events via", 10*time.Second)
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
	for d := 1; d <= 3; d++ {
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
				summary = append(summary, fmt.Sprintf("%s: %s drift=%d corrected=%d writes=%d %s", r.Target, r.Outcome, r.Drift, r.Corrected, r.Writes, r.Error))
			}
			seen[i] = len(recs)
		}
		t.Logf("drift %d: %d writes landed, %d passes\n%s", d, writes, passes, strings.Join(summary, "\n"))
		if corrected != writes {
			t.Errorf("drift %d: the watchers report %d corrections, the lab saw %d writes", d, corrected, writes)
		}
		// Known gap (issue 12, "Many correctors, one write"): incusd checks
		// the ETag of /1.0 against the member's cached cluster config,
		// which another member's write updates asynchronously, and the
		// check and the write are not atomic; so two watchers that read
		// the drift before either wrote may both write (the same value).
		// Until that is closed, at least one and at most one per watcher.
		if writes < 1 || writes > len(ws) {
			t.Errorf("drift %d: %d writes landed, want 1..%d", d, writes, len(ws))
		}
		if v := e.config("node1", driftKey); v != "0" {
			t.Errorf("drift %d: %s = %q after settling, want 0", d, driftKey, v)
		}
	}
	for _, w := range ws {
		if code := w.stop(); code != 0 {
			t.Errorf("SIGTERM: exit %d", code)
		}
	}
}

package watch_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/watch"
)

// drift makes one out-of-band `incus config set` on node3 and waits for
// the pass that corrects it. It returns that pass's record, the time from
// the set's return to the end of the pass (detection to correction: Incus
// sends the event just before it answers), how long the set itself took,
// and the number of records so far.
func (e *env) drift(w *watcher, seen int, value string) (rec watch.Record, lat, set time.Duration, n int) {
	e.t.Helper()
	t0 := time.Now()
	e.setConfig("node3", driftKey, value)
	set = time.Since(t0).Round(time.Millisecond)
	rec, n = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if v := e.config("node3", driftKey); v != "0" {
		e.t.Fatalf("%s = %q after the correction, want 0", driftKey, v)
	}
	return rec, since(rec, t0) - set, set, n
}

// TestWatchReactsOnFirstEvent: with default flags, each of 5 drifts is
// corrected by a pass the event triggered, and the pass's own write (whose
// config-updated event the watcher hears like any other) triggers no
// further pass. The quiet wait after each correction is far longer than
// the watcher's coalescing window, so a follow-up pass would show.
func TestWatchReactsOnFirstEvent(t *testing.T) {
	e := newEnv(t, 3)
	e.formCluster("node*")
	w := e.watch("node3", "--interval", "1h")
	_, seen := w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
	w.waitStderr("node3: following events via node3", 10*time.Second)
	for i := 1; i <= 5; i++ {
		rec, lat, _, n := e.drift(w, seen, fmt.Sprint(i))
		if rec.Trigger != watch.Event || rec.Drift != 1 || rec.Corrected != 1 || rec.Writes == 0 || rec.Outcome != "ok" {
			t.Fatalf("drift %d: correction pass %+v", i, rec)
		}
		if n != seen+1 {
			t.Fatalf("drift %d: passes before the correction: %+v", i, w.records()[seen:n-1])
		}
		seen = n
		t.Logf("drift %d corrected %s after the set returned", i, lat)
		time.Sleep(3 * time.Second) // the old 2 s debounce plus a pass
		if recs := w.records(); len(recs) != seen {
			t.Fatalf("drift %d: extra passes after the correction: %+v", i, recs[seen:])
		}
	}
	if code := w.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

// BenchmarkWatchDriftToCorrection measures, with default flags, the time
// from an out-of-band `incus config set` on a 3-member lab to the end of
// the watch pass that corrects it, over 20 drifts (`make bench-watch`).
// It reports the median and the 95th percentile (nearest rank) in ms,
// from the set's return (p50-ms, p95-ms: detection to correction) and from
// its start (cmd-p50-ms, cmd-p95-ms: what the operator's clock says, the
// set's own duration included), and the passes that corrected nothing
// (there should be none).
func BenchmarkWatchDriftToCorrection(b *testing.B) {
	const drifts = 20
	e := newEnv(b, 3)
	e.formCluster("node*")
	w := e.watch("node3", "--interval", "1h")
	_, seen := w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
	w.waitStderr("node3: following events via node3", 10*time.Second)
	var lats, cmds, sets, passes []time.Duration
	b.ResetTimer()
	for i := 1; i <= drifts; i++ {
		rec, lat, set, n := e.drift(w, seen, fmt.Sprint(i))
		seen = n
		lats, cmds, sets = append(lats, lat), append(cmds, lat+set), append(sets, set)
		passes = append(passes, time.Duration(rec.DurationMS*float64(time.Millisecond)).Round(time.Millisecond))
		// Drift is rare: let any follow-up pass run before the next one.
		time.Sleep(time.Second)
	}
	b.StopTimer()
	extra := 0
	for _, r := range w.records()[1:] {
		if r.Corrected == 0 {
			extra++
		}
	}
	w.stop()
	b.Logf("detection to correction: %v", lats)
	b.Logf("the sets took: %v; the correcting passes: %v", sets, passes)
	rank := func(d []time.Duration, p int) float64 {
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[(p*len(d)+99)/100-1].Milliseconds())
	}
	b.ReportMetric(rank(lats, 50), "p50-ms")
	b.ReportMetric(rank(lats, 95), "p95-ms")
	b.ReportMetric(rank(lats, 100), "max-ms")
	b.ReportMetric(rank(cmds, 50), "cmd-p50-ms")
	b.ReportMetric(rank(cmds, 95), "cmd-p95-ms")
	b.ReportMetric(float64(extra), "noop-passes")
}

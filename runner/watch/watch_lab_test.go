package watch_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/lock"
	"github.com/statectl/statectl/runner/watch"
)

const driftKey = "images.auto_update_interval" // the lab pillar wants "0"

// formCluster applies the shipped states to every lab member until they
// converge: the second apply must change nothing.
func (e *env) formCluster(expr string) {
	e.t.Helper()
	start := time.Now()
	if r := e.run("apply", expr); r.code != 0 {
		// Incus 6.0.4 sometimes reports the first settings write as not
		// stored; the re-apply below must still converge.
		e.t.Logf("first apply exit %d", r.code)
	}
	e.must(0, "apply", expr, "--test", "--detailed-exitcode")
	e.t.Logf("%s converged in %s", expr, time.Since(start).Round(time.Millisecond))
}

func since(rec watch.Record, t0 time.Time) time.Duration {
	end := rec.Start.Add(time.Duration(rec.DurationMS * float64(time.Millisecond)))
	return end.Sub(t0).Round(time.Millisecond)
}

// metric reads one sample (name{labels} value) from a Prometheus text page.
func metric(t *testing.T, page, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sample %s in metrics:\n%s", series, page)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWatchCorrectsDrift: a watcher corrects `incus config set` drift and
// an out-of-band member removal within seconds (event-triggered), --test
// reports drift and changes nothing, a scheduled pass corrects drift
// without an event, and the JSON lines and metrics carry the counts.
func TestWatchCorrectsDrift(t *testing.T) {
	e := newEnv(t, 3)
	e.formCluster("node*")

	w := e.watch("node3", "--interval", "1h", "--debounce", "300ms")
	first, seen := w.waitRecord(0, time.Minute, func(r watch.Record) bool { return true })
	if first.Trigger != watch.Start || first.Outcome != "ok" || first.Drift != 0 || first.Corrected != 0 || first.States == 0 {
		t.Fatalf("first pass on a converged cluster: %+v", first)
	}
	if code, body := w.scrape("/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz %d %s", code, body)
	}

	// Drift by `incus config set` on the member.
	t0 := time.Now()
	e.setConfig("node3", driftKey, "9")
	rec, seen := w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Event || rec.Drift != 1 || rec.Corrected != 1 || rec.Failed != 0 {
		t.Fatalf("correction pass: %+v", rec)
	}
	t.Logf("config drift: latency %s from the change's start", since(rec, t0))
	if v := e.config("node1", driftKey); v != "0" {
		t.Fatalf("%s = %q after correction, want 0", driftKey, v)
	}

	// Out-of-band member removal: node3's daemon resets itself (its event
	// stream breaks), the watcher reconnects, runs a pass and re-joins.
	t0 = time.Now()
	if err := e.client("node1").DeleteClusterMember("node3", false); err != nil {
		t.Fatal(err)
	}
	rec, seen = w.waitRecord(seen, 2*time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	// An event or the reconnection triggers it; a pass that runs while
	// node3 is still resetting fails and is retried with backoff.
	if (rec.Trigger != watch.Event && rec.Trigger != watch.Retry) || rec.Failed != 0 || rec.Outcome != "ok" {
		t.Fatalf("re-join pass: %+v", rec)
	}
	t.Logf("member removal: detection-to-correction latency %s", since(rec, t0))
	names, err := e.client("node1").GetClusterMemberNames()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, "/node3") || n == "node3" }) {
		t.Fatalf("node3 not a member again: %v", names)
	}

	// Metrics agree with the JSON lines.
	recs := w.records()
	var corrected, drift float64
	outcomes := map[string]float64{}
	for _, r := range recs {
		corrected += float64(r.Corrected)
		drift += float64(r.Drift)
		outcomes[r.Outcome]++
	}
	_, page := w.scrape("/metrics")
	if got := metric(t, page, `statectl_corrections_total{target="node3"}`); got != corrected {
		t.Errorf("statectl_corrections_total = %v, JSON lines say %v", got, corrected)
	}
	if got := metric(t, page, `statectl_drift_detected_total{target="node3"}`); got != drift {
		t.Errorf("statectl_drift_detected_total = %v, JSON lines say %v", got, drift)
	}
	for outcome, n := range outcomes {
		if got := metric(t, page, `statectl_passes_total{outcome="`+outcome+`",target="node3"}`); got != n {
			t.Errorf("statectl_passes_total %s = %v, JSON lines have %v", outcome, got, n)
		}
	}
	if got := metric(t, page, `statectl_last_success_timestamp_seconds{target="node3"}`); got < float64(t0.Unix()) {
		t.Errorf("last success %v is before the removal at %d", got, t0.Unix())
	}
	if code := w.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}

	// --test: reports the drift, changes nothing.
	tw := e.watch("node3", "--test", "--interval", "1h", "--debounce", "300ms")
	_, seen = tw.waitRecord(0, time.Minute, func(r watch.Record) bool { return true })
	e.setConfig("node3", driftKey, "9")
	rec, _ = tw.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Drift > 0 })
	if !rec.Test || rec.Trigger != watch.Event || rec.Corrected != 0 || rec.Changed != 1 {
		t.Fatalf("test-mode pass: %+v", rec)
	}
	time.Sleep(time.Second) // a wrong correction would land by now
	if v := e.config("node3", driftKey); v != "9" {
		t.Fatalf("--test changed %s to %q", driftKey, v)
	}
	tw.stop()

	// Scheduled: the debounce outlasts the interval, so only the schedule
	// can correct the drift made after the first pass.
	sw := e.watch("node3", "--interval", "2s", "--debounce", "1h")
	rec, seen = sw.waitRecord(0, time.Minute, func(r watch.Record) bool { return true })
	if rec.Trigger != watch.Start || rec.Corrected != 1 {
		t.Fatalf("start pass should correct the --test drift: %+v", rec)
	}
	e.setConfig("node3", driftKey, "7")
	rec, _ = sw.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Corrected > 0 })
	if rec.Trigger != watch.Interval {
		t.Fatalf("scheduled correction: %+v", rec)
	}
	if v := e.config("node3", driftKey); v != "0" {
		t.Fatalf("%s = %q after scheduled correction", driftKey, v)
	}
	sw.stop()
}

// TestWatchSIGTERMMidPass: SIGTERM during a pass that joins a member lets
// the pass finish, exits 0, and leaves a consistent, converged cluster.
func TestWatchSIGTERMMidPass(t *testing.T) {
	e := newEnv(t, 2)
	e.formCluster("node1")
	w := e.watch("node2", "--interval", "1h")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(w.stderrText(), "pass 1 (start)") {
		if time.Now().After(deadline) {
			t.Fatalf("no pass started:\n%s", w.stderrText())
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Now()
	if code := w.stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	recs := w.records()
	if len(recs) != 1 || recs[0].Outcome != "ok" || recs[0].Corrected == 0 || recs[0].Error != "" {
		t.Fatalf("records after SIGTERM: %+v", recs)
	}
	end := recs[0].Start.Add(time.Duration(recs[0].DurationMS * float64(time.Millisecond)))
	t.Logf("SIGTERM sent %s before the pass ended (pass took %.0fms)", end.Sub(sent).Round(time.Millisecond), recs[0].DurationMS)
	// Consistent: nothing half-joined, nothing left to do.
	e.must(0, "apply", "node*", "--test", "--detailed-exitcode")
}

// TestRunLock: apply and watch passes on one target exclude each other.
func TestRunLock(t *testing.T) {
	e := newEnv(t, 1)
	e.formCluster("node1")
	m, _ := e.lab.Member("node1")
	held, err := lock.Acquire(context.Background(), e.dir+"/locks",
		lock.Holder{Target: "node1", Endpoint: m.Socket, Function: "state.apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := e.must(1, "apply", "node1")
	want := `statectl: error: another run is in progress for node1: The function "state.apply" is running as PID ` + strconv.Itoa(os.Getpid())
	if !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
		t.Fatalf("busy apply: stdout %q stderr %q", r.stdout, r.stderr)
	}

	// A watch pass finding the lock held backs off and retries.
	w := e.watch("node1", "--interval", "1h")
	rec, seen := w.waitRecord(0, time.Minute, func(watch.Record) bool { return true })
	if rec.Outcome != "failed" || !strings.Contains(rec.Error, "another run is in progress") {
		t.Fatalf("pass under a held lock: %+v", rec)
	}
	held.Release()
	rec, _ = w.waitRecord(seen, time.Minute, func(r watch.Record) bool { return r.Outcome == "ok" })
	if rec.Trigger != watch.Retry {
		t.Fatalf("retry pass: %+v", rec)
	}
	w.stop()

	// --lock-timeout waits for the holder.
	held, err = lock.Acquire(context.Background(), e.dir+"/locks",
		lock.Holder{Target: "node1", Endpoint: m.Socket, Function: "state.apply"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(500 * time.Millisecond); held.Release() }()
	e.must(0, "apply", "node1", "--lock-timeout", "30s")
}

package watch

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// clock hands out timers the test fires by hand and records the delays
// the loop asked for, so schedules are checked without real waiting.
type clock struct {
	mu     sync.Mutex
	count  map[time.Duration]int
	asked  []time.Duration
	timers []chan time.Time
	added  chan struct{}
}

func newClock() *clock {
	return &clock{added: make(chan struct{}, 100), count: map[time.Duration]int{}}
}

// waitAsked waits until a timer of d has been asked for n times.
func (c *clock) waitAsked(t *testing.T, d time.Duration, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		got := c.count[d]
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-c.added:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timer of %s asked %d times, want %d", d, got, n)
		}
	}
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.asked = append(c.asked, d)
	c.count[d]++
	c.timers = append(c.timers, ch)
	c.added <- struct{}{}
	return ch
}

// fire fires the timer asked for with duration d most recently.
func (c *clock) fire(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		for i := len(c.asked) - 1; i >= 0; i-- {
			if c.asked[i] == d {
				ch := c.timers[i]
				c.asked[i] = -1 // fired
				c.mu.Unlock()
				ch <- time.Now()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("no timer of %s asked for; asked %v", d, c.asked)
		}
	}
}

type passes struct {
	mu  sync.Mutex
	got []PassInfo
	out []Outcome // outcomes to return, in order; then OK
	ran chan PassInfo
}

func (p *passes) pass(_ context.Context, info PassInfo) Outcome {
	p.mu.Lock()
	p.got = append(p.got, info)
	out := OK
	if len(p.out) > 0 {
		out, p.out = p.out[0], p.out[1:]
	}
	p.mu.Unlock()
	p.ran <- info
	return out
}

func (p *passes) next(t *testing.T) PassInfo {
	t.Helper()
	select {
	case info := <-p.ran:
		return info
	case <-time.After(10 * time.Second):
		t.Fatal("no pass ran")
	}
	return PassInfo{}
}

func start(t *testing.T, cfg Config, p *passes) (stop chan struct{}, done chan error) {
	stop, done = make(chan struct{}), make(chan error, 1)
	cfg.Pass, cfg.Stop = p.pass, stop
	go func() { done <- Run(context.Background(), cfg) }()
	t.Cleanup(func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-done
	})
	return stop, done
}

func TestScheduleAndBackoff(t *testing.T) {
	c := newClock()
	p := &passes{ran: make(chan PassInfo, 10), out: []Outcome{Failed, Failed, Failed, Failed, OK}}
	start(t, Config{Interval: 8 * time.Second, Splay: 5 * time.Second, MinBackoff: time.Second, After: c.After,
		Rand: func(n time.Duration) time.Duration { return n / 5 }}, p)
	if info := p.next(t); info.Seq != 1 || info.Trigger != Start {
		t.Fatalf("first pass %+v", info)
	}
	// Failures back off 1s, 2s, 4s, then cap at the interval.
	for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		c.fire(t, d)
		if info := p.next(t); info.Trigger != Retry {
			t.Fatalf("after %s: %+v", d, info)
		}
	}
	// Success: interval plus splay (pinned to 1s).
	c.fire(t, 9*time.Second)
	if info := p.next(t); info.Trigger != Interval || info.Seq != 6 {
		t.Fatalf("scheduled pass %+v", info)
	}
}

// cfgUpdated is a config-updated event on node3, stamped at ms.
func cfgUpdated(ms int) Notice {
	return Notice{Reason: "config-updated", Location: "node3", Via: "node3", Time: time.UnixMilli(int64(ms))}
}

// noPass fails if a pass runs within a short wait.
func (p *passes) noPass(t *testing.T, why string) {
	t.Helper()
	select {
	case info := <-p.ran:
		t.Fatalf("%s: extra pass %+v", why, info)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestEventsReactAtOnce: after the window that follows a pass, the first
// event runs a pass at once (no timer is fired), and the events of the
// burst behind it that arrive during that pass and its window coalesce
// into one follow-up pass.
func TestEventsReactAtOnce(t *testing.T) {
	c := newClock()
	events := NewEvents()
	var burst sync.Once
	p := &passes{ran: make(chan PassInfo, 10)}
	pass := func(ctx context.Context, info PassInfo) Outcome {
		if info.Seq == 2 {
			burst.Do(func() {
				for i := 2; i <= 4; i++ { // the rest of the burst
					events.Notify(cfgUpdated(i))
				}
			})
		}
		return p.pass(ctx, info)
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Interval: time.Hour, Debounce: 100 * time.Millisecond,
			After: c.After, Events: events, Pass: pass, Stop: stop})
	}()
	defer func() { close(stop); <-done }()
	p.next(t)
	c.fire(t, 100*time.Millisecond) // the start pass's window: nothing heard
	p.noPass(t, "quiet window")
	events.Notify(cfgUpdated(1))
	if info := p.next(t); info.Seq != 2 || info.Trigger != Event {
		t.Fatalf("leading-edge pass %+v", info)
	}
	c.waitAsked(t, 100*time.Millisecond, 2)
	events.Notify(cfgUpdated(5)) // in the window
	p.noPass(t, "before the window ends")
	c.fire(t, 100*time.Millisecond)
	if info := p.next(t); info.Seq != 3 || info.Trigger != Event {
		t.Fatalf("follow-up pass %+v", info)
	}
	c.fire(t, 100*time.Millisecond)
	p.noPass(t, "after the follow-up pass")
}

// TestEventsWeighedAgainstWrites: the events heard during a pass and the
// window after it run a follow-up pass only when they outnumber the
// pass's writes (each write's own event, its echo, is dropped), or when
// an event stream reconnected.
func TestEventsWeighedAgainstWrites(t *testing.T) {
	reconnected := Notice{Reason: Reconnected, Via: "node1"}
	tests := []struct {
		name     string
		writes   int64
		during   []Notice // heard while the pass runs
		window   []Notice // heard after it, within the window
		followUp bool
		failed   bool // the pass fails: a retry is due after MinBackoff
	}{
		{"quiet", 0, nil, nil, false, false},
		{"the correction's echo", 1, []Notice{cfgUpdated(1)}, nil, false, false},
		{"the echo after the pass", 1, nil, []Notice{cfgUpdated(1)}, false, false},
		{"two writes, two echoes", 2, []Notice{cfgUpdated(1)}, []Notice{cfgUpdated(2)}, false, false},
		{"the echo heard via two streams", 1, []Notice{cfgUpdated(1), {Reason: "config-updated", Location: "node3", Via: "node1", Time: time.UnixMilli(1)}}, nil, false, false},
		{"a change during a pass that wrote nothing", 0, []Notice{cfgUpdated(1)}, nil, true, false},
		{"a change in the window of a pass that wrote nothing", 0, nil, []Notice{cfgUpdated(1)}, true, false},
		{"the echo and an operator's change", 1, []Notice{cfgUpdated(1), cfgUpdated(2)}, nil, true, false},
		{"the echo, then an operator's change in the window", 1, []Notice{cfgUpdated(1)}, []Notice{cfgUpdated(2)}, true, false},
		{"same time, another member", 1, []Notice{cfgUpdated(1), {Reason: "config-updated", Location: "node1", Time: time.UnixMilli(1)}}, nil, true, false},
		{"a burst of five", 0, []Notice{cfgUpdated(1), cfgUpdated(2), cfgUpdated(3), cfgUpdated(4)}, []Notice{cfgUpdated(5)}, true, false},
		{"stream reconnected during a pass that wrote", 1, []Notice{reconnected}, nil, true, false},
		{"stream reconnected in the window", 0, nil, []Notice{reconnected}, true, false},
		{"the echo of a pass that failed", 1, []Notice{cfgUpdated(1)}, nil, false, true},
		{"a change during a pass that failed", 0, []Notice{cfgUpdated(1)}, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			events := NewEvents()
			var writes atomic.Int64
			p := &passes{ran: make(chan PassInfo, 10)}
			next := Interval
			if tt.failed {
				p.out, next = []Outcome{Failed}, Retry
			}
			pass := func(ctx context.Context, info PassInfo) Outcome {
				if info.Seq == 1 {
					writes.Add(tt.writes)
					for _, n := range tt.during {
						events.Notify(n)
					}
				}
				return p.pass(ctx, info)
			}
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- Run(context.Background(), Config{Interval: time.Hour, Debounce: 100 * time.Millisecond, MinBackoff: time.Second,
					After: c.After, Events: events, Writes: writes.Load, Pass: pass, Stop: stop})
			}()
			defer func() { close(stop); <-done }()
			p.next(t)
			c.waitAsked(t, 100*time.Millisecond, 1)
			for _, n := range tt.window {
				events.Notify(n)
			}
			p.noPass(t, "before the window ends")
			c.fire(t, 100*time.Millisecond)
			if tt.followUp {
				if info := p.next(t); info.Seq != 2 || info.Trigger != Event {
					t.Fatalf("follow-up pass %+v", info)
				}
				// At most one: its window hears nothing.
				c.fire(t, 100*time.Millisecond)
			}
			p.noPass(t, "after the window")
			// Then the schedule: a retry after the failed pass, else (or
			// after an ok follow-up pass) the interval.
			if next == Retry && tt.followUp {
				next = Interval
			}
			c.fire(t, map[Trigger]time.Duration{Retry: time.Second, Interval: time.Hour}[next])
			if info := p.next(t); info.Trigger != next {
				t.Fatalf("next pass %+v, want %s", info, next)
			}
		})
	}
}

// TestEventsDedupe: an event heard via two streams counts once; a
// reconnection always counts.
func TestEventsDedupe(t *testing.T) {
	tests := []struct {
		name    string
		notices []Notice
		want    counts
	}{
		{"one", []Notice{cfgUpdated(1)}, counts{events: 1}},
		{"same event, two streams", []Notice{cfgUpdated(1), {Reason: "config-updated", Location: "node3", Via: "node1", Time: time.UnixMilli(1)}}, counts{events: 1}},
		{"two events", []Notice{cfgUpdated(1), cfgUpdated(2)}, counts{events: 2}},
		{"another action, same time", []Notice{cfgUpdated(1), {Reason: "cluster-member-updated", Location: "node3", Time: time.UnixMilli(1)}}, counts{events: 2}},
		{"no timestamp", []Notice{{Reason: "config-updated"}, {Reason: "config-updated"}}, counts{events: 2}},
		{"reconnections", []Notice{{Reason: Reconnected}, {Reason: Reconnected}}, counts{forced: 2}},
	}
	for _, tt := range tests {
		e := NewEvents()
		for _, n := range tt.notices {
			e.Notify(n)
		}
		if got := e.count(); got != tt.want {
			t.Errorf("%s: counts %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestTerminalWaitsForInputs(t *testing.T) {
	c := newClock()
	p := &passes{ran: make(chan PassInfo, 10), out: []Outcome{Terminal}}
	var mu sync.Mutex
	digest := "v1"
	events := NewEvents()
	start(t, Config{Interval: time.Hour, InputPoll: 3 * time.Second, After: c.After, Events: events,
		Inputs: func() string { mu.Lock(); defer mu.Unlock(); return digest }}, p)
	p.next(t)
	// Events are ignored while the inputs are bad; polls see no change.
	events.Notify(cfgUpdated(1))
	c.fire(t, 3*time.Second)
	c.waitAsked(t, 3*time.Second, 2) // polled, no change, re-armed
	c.mu.Lock()
	debounced := c.count[DefaultDebounce]
	c.mu.Unlock()
	if debounced != 0 {
		t.Fatal("an event was acted on while the inputs are bad")
	}
	mu.Lock()
	digest = "v2"
	mu.Unlock()
	c.fire(t, 3*time.Second)
	if info := p.next(t); info.Trigger != Inputs {
		t.Fatalf("pass after the inputs changed: %+v", info)
	}
}

func TestStopAndReload(t *testing.T) {
	c := newClock()
	p := &passes{ran: make(chan PassInfo, 10)}
	reload := make(chan struct{}, 1)
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Interval: time.Hour, After: c.After, Reload: reload, Stop: stop, Pass: p.pass})
	}()
	p.next(t)
	reload <- struct{}{}
	if info := p.next(t); info.Trigger != Reload {
		t.Fatalf("reload pass %+v", info)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("Run after Stop: %v", err)
	}
}

func TestRecorder(t *testing.T) {
	var log strings.Builder
	r := NewRecorder(&log)
	t0 := time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC)
	r.Add(Record{Pass: 1, Target: "node2", Trigger: Start, Start: t0, DurationMS: 20, States: 2, Outcome: "ok"})
	r.Add(Record{Pass: 2, Target: "node2", Trigger: Event, Start: t0.Add(time.Minute), DurationMS: 30, States: 2,
		Changed: 1, Failed: 1, FailedStates: []string{"incus-server-settings"}, Drift: 2, Corrected: 1, Reads: 7, Writes: 1, Outcome: "failed"})
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], `{"pass":2,"target":"node2","trigger":"event","test":false,"start":"2025-11-21T10:01:00Z","duration_ms":30,"states":2,"changed":1,"failed":1,"failed_states":["incus-server-settings"],"drift":2,"corrected":1,"reads":7,"writes":1,"outcome":"failed"}`) {
		t.Fatalf("log:\n%s", log.String())
	}
	want := `
# HELP statectl_corrections_total States a pass changed to correct drift.
# TYPE statectl_corrections_total counter
statectl_corrections_total{target="node2"} 1
# HELP statectl_drift_detected_total States whose plan found the live system different from the desired state.
# TYPE statectl_drift_detected_total counter
statectl_drift_detected_total{target="node2"} 2
# HELP statectl_last_success_timestamp_seconds Unix time of the end of the last pass without failure.
# TYPE statectl_last_success_timestamp_seconds gauge
statectl_last_success_timestamp_seconds{target="node2"} 1.76371920002e+09
# HELP statectl_passes_total Watch passes per target, by outcome (ok, failed, terminal, deferred).
# TYPE statectl_passes_total counter
statectl_passes_total{outcome="failed",target="node2"} 1
statectl_passes_total{outcome="ok",target="node2"} 1
# HELP statectl_state_failures_total Failed states, by state ID.
# TYPE statectl_state_failures_total counter
statectl_state_failures_total{state_id="incus-server-settings",target="node2"} 1
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want),
		"statectl_corrections_total", "statectl_drift_detected_total", "statectl_last_success_timestamp_seconds",
		"statectl_passes_total", "statectl_state_failures_total"); err != nil {
		t.Fatal(err)
	}
}

// TestCommitTriggers: a new commit runs a pass at once, also while the
// loop waits after a terminal pass (a bad commit is fixed by the next).
func TestCommitTriggers(t *testing.T) {
	c := newClock()
	commits := make(chan struct{}, 1)
	p := &passes{ran: make(chan PassInfo, 10), out: []Outcome{Terminal}}
	start(t, Config{Interval: time.Hour, After: c.After, Commits: commits}, p)
	p.next(t)
	p.noPass(t, "terminal pass, no commit")
	commits <- struct{}{}
	if info := p.next(t); info.Trigger != Commit || info.Seq != 2 {
		t.Fatalf("after a commit: %+v", info)
	}
	commits <- struct{}{}
	if info := p.next(t); info.Trigger != Commit || info.Seq != 3 {
		t.Fatalf("after a second commit: %+v", info)
	}
}

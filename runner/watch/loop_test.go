package watch

import (
	"context"
	"strings"
	"sync"
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

func TestEventsDebounced(t *testing.T) {
	c := newClock()
	p := &passes{ran: make(chan PassInfo, 10)}
	events := make(chan struct{}, 1)
	start(t, Config{Interval: time.Hour, Debounce: 2 * time.Second, After: c.After, Events: events}, p)
	p.next(t)
	// A burst: each event restarts the quiet period; one pass follows.
	for i := 1; i <= 3; i++ {
		events <- struct{}{}
		c.waitAsked(t, 2*time.Second, i)
	}
	c.fire(t, 2*time.Second)
	if info := p.next(t); info.Trigger != Event || info.Seq != 2 {
		t.Fatalf("event pass %+v", info)
	}
	select {
	case info := <-p.ran:
		t.Fatalf("extra pass %+v", info)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestTerminalWaitsForInputs(t *testing.T) {
	c := newClock()
	p := &passes{ran: make(chan PassInfo, 10), out: []Outcome{Terminal}}
	var mu sync.Mutex
	digest := "v1"
	events := make(chan struct{}, 1)
	start(t, Config{Interval: time.Hour, InputPoll: 3 * time.Second, After: c.After, Events: events,
		Inputs: func() string { mu.Lock(); defer mu.Unlock(); return digest }}, p)
	p.next(t)
	// Events are ignored while the inputs are bad; polls see no change.
	events <- struct{}{}
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
# HELP statectl_passes_total Watch passes per target, by outcome (ok, failed, terminal).
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

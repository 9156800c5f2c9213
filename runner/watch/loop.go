// Package watch is statectl's drift-correction loop (`statectl watch`): a
// level-based reconcile loop in the style of controller-runtime. Each pass
// re-reads every input and the live cluster and re-plans; the loop never
// trusts a remembered state, so a missed event or a crash costs at most one
// interval.
//
// Scheduling, per pass outcome:
//   - OK: the next pass runs after the interval plus a random splay;
//   - Failed (cluster unreachable, a failed state, the target's lock held by
//     another run): retry with exponential backoff from MinBackoff up to the
//     interval;
//   - Terminal (render, pillar or compile error): the inputs are wrong and
//     retrying cannot help, so the loop waits for the input files to change
//     (polled digest) or for the interval, and ignores cluster events.
//
// Cluster events (see Listener) and SIGHUP (Reload) run a pass early. Events
// are debounced: a burst, including the events a pass's own writes cause,
// yields one follow-up pass after a quiet period, and that pass finds
// nothing to do, writes nothing and so causes no further events.
package watch

import (
	"context"
	"math/rand/v2"
	"time"
)

// Trigger says why a pass ran.
type Trigger string

const (
	Start    Trigger = "start"    // the first pass
	Interval Trigger = "interval" // the schedule
	Retry    Trigger = "retry"    // backoff after a failed pass
	Event    Trigger = "event"    // a cluster event
	Reload   Trigger = "reload"   // SIGHUP
	Inputs   Trigger = "inputs"   // the input files changed after a terminal error
)

// Outcome classifies a pass for scheduling.
type Outcome int

const (
	// OK: the pass converged (or, in test mode, reported); next at the
	// interval.
	OK Outcome = iota
	// Failed: worth retrying soon (transient); back off.
	Failed
	// Terminal: bad input; wait for the inputs to change.
	Terminal
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Terminal:
		return "terminal"
	}
	return "unknown"
}

// PassInfo identifies a pass.
type PassInfo struct {
	Seq     int // 1, 2, ...
	Trigger Trigger
}

// Config is a loop. Pass is required; zero durations take the defaults.
type Config struct {
	// Interval between converged passes (default 10m).
	Interval time.Duration
	// Splay adds a random delay in [0, Splay) to each interval, so
	// watchers of many targets do not hit the cluster together.
	Splay time.Duration
	// Debounce is the quiet period after the last event before a pass
	// (default 2s).
	Debounce time.Duration
	// MinBackoff is the first retry delay after a failed pass (default 1s);
	// it doubles per failure up to Interval.
	MinBackoff time.Duration
	// InputPoll is how often the inputs are digested while waiting after a
	// terminal error (default 2s).
	InputPoll time.Duration

	// Pass runs one pass. ctx ends only on interruption (SIGINT); Stop
	// lets a running pass finish.
	Pass func(ctx context.Context, p PassInfo) Outcome
	// Inputs digests the input files; nil disables waiting for changes.
	Inputs func() string
	// Events signal cluster events worth a pass. Senders should not block
	// (a buffer of one coalesces a burst).
	Events <-chan struct{}
	// Reload runs a pass with freshly read inputs (SIGHUP).
	Reload <-chan struct{}
	// Stop ends the loop after the running pass (SIGTERM).
	Stop <-chan struct{}

	// Rand returns a random duration in [0, n) (tests pin it).
	Rand func(n time.Duration) time.Duration
	// After is time.After (tests observe the delays asked for).
	After func(d time.Duration) <-chan time.Time
}

// Defaults.
const (
	DefaultInterval   = 10 * time.Minute
	DefaultDebounce   = 2 * time.Second
	DefaultMinBackoff = time.Second
	DefaultInputPoll  = 2 * time.Second
)

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Debounce <= 0 {
		c.Debounce = DefaultDebounce
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MinBackoff > c.Interval {
		c.MinBackoff = c.Interval
	}
	if c.InputPoll <= 0 {
		c.InputPoll = DefaultInputPoll
	}
	if c.Rand == nil {
		c.Rand = func(n time.Duration) time.Duration { return rand.N(n) }
	}
	if c.After == nil {
		c.After = time.After
	}
}

// Run runs passes until ctx ends or Stop is closed (or signalled). The
// first pass runs at once. It returns ctx.Err() when interrupted, else nil.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	trigger := Start
	var backoff time.Duration
	for seq := 1; ; seq++ {
		out := cfg.Pass(ctx, PassInfo{Seq: seq, Trigger: trigger})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if closed(cfg.Stop) {
			return nil
		}
		w := wait{delay: cfg.Interval + cfg.splay(), trigger: Interval}
		switch out {
		case Failed:
			if backoff == 0 {
				backoff = cfg.MinBackoff
			} else {
				backoff = min(2*backoff, cfg.Interval)
			}
			w = wait{delay: backoff, trigger: Retry}
		case Terminal:
			backoff = 0
			w.terminal = true
			if cfg.Inputs != nil {
				w.inputs = cfg.Inputs()
			}
		default:
			backoff = 0
		}
		next, ok := cfg.wait(ctx, w)
		if !ok {
			return ctx.Err()
		}
		trigger = next
	}
}

func (c *Config) splay() time.Duration {
	if c.Splay <= 0 {
		return 0
	}
	return c.Rand(c.Splay)
}

type wait struct {
	delay    time.Duration
	trigger  Trigger
	terminal bool
	inputs   string // digest when terminal
}

// wait blocks until the next pass is due and says why; false means stop.
func (c *Config) wait(ctx context.Context, w wait) (Trigger, bool) {
	timer := c.After(w.delay)
	events := c.Events
	var poll <-chan time.Time
	if w.terminal {
		// Bad inputs: a pass would fail the same way, cluster events or not.
		events = nil
		if c.Inputs != nil {
			poll = c.After(c.InputPoll)
		}
	}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return "", false
		case <-c.Stop:
			return "", false
		case <-timer:
			return w.trigger, true
		case <-c.Reload:
			return Reload, true
		case <-events:
			// Restart the quiet period: a burst yields one pass.
			debounce = c.After(c.Debounce)
		case <-debounce:
			return Event, true
		case <-poll:
			if c.Inputs() != w.inputs {
				return Inputs, true
			}
			poll = c.After(c.InputPoll)
		}
	}
}

// closed reports whether ch has been closed or signalled, without waiting.
func closed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

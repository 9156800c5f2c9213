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
// Cluster events (see Listener and Events) and SIGHUP (Reload) run a pass
// early. The first event after a quiet period runs a pass at once (leading
// edge). After every pass comes a short window (Debounce): the events heard
// during the pass and the window are weighed against the writes the pass
// sent. Each write of a pass causes one lifecycle event (its echo); up to
// that many events are taken as the pass's own and dropped, and any more
// (an out-of-band change during the pass, a reconnected stream) coalesce
// into one follow-up pass at the end of the window. So a burst yields at
// most two passes, and a correction is not followed by a pass of its own
// making.
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
	Commit   Trigger = "commit"   // a new commit on the followed Git ref (--git)
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
	// Deferred: another run held the cluster lock for the whole wait;
	// the drift is left to it and retried as after Failed.
	Deferred
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Terminal:
		return "terminal"
	case Deferred:
		return "deferred"
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
	// Debounce is the window after each pass in which events are weighed
	// against the pass's writes (see the package comment); events beyond
	// the pass's own run one follow-up pass when it ends (default 250ms).
	// It must outlast the delay of a write's event: a later echo would
	// run a pass that finds nothing to do.
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
	// Events counts the cluster events worth a pass (nil: none).
	Events *Events
	// Writes returns how many writes (requests that change something) the
	// passes sent so far; nil counts none, so every event heard during a
	// pass runs a follow-up pass.
	Writes func() int64
	// Reload runs a pass with freshly read inputs (SIGHUP).
	Reload <-chan struct{}
	// Commits runs a pass when a new commit was fetched (--git).
	Commits <-chan struct{}
	// Stop ends the loop after the running pass (SIGTERM).
	Stop <-chan struct{}

	// Rand returns a random duration in [0, n) (tests pin it).
	Rand func(n time.Duration) time.Duration
	// After is time.After (tests observe the delays asked for).
	After func(d time.Duration) <-chan time.Time
	// Logf, if set, says when events heard during a pass were its own or
	// run a follow-up pass.
	Logf func(format string, args ...any)
}

// Defaults.
const (
	DefaultInterval   = 10 * time.Minute
	DefaultDebounce   = 250 * time.Millisecond
	DefaultMinBackoff = time.Second
	DefaultInputPoll  = 2 * time.Second
	// DefaultClusterLockWait bounds a pass's wait for the cluster lock
	// (statectl watch --cluster-lock-wait).
	DefaultClusterLockWait = 10 * time.Second
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
	if c.Writes == nil {
		c.Writes = func() int64 { return 0 }
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Run runs passes until ctx ends or Stop is closed (or signalled). The
// first pass runs at once. It returns ctx.Err() when interrupted, else nil.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	trigger := Start
	var backoff time.Duration
	for seq := 1; ; seq++ {
		// Events counted so far are this pass's to handle: it reads the
		// cluster afresh.
		mark := cfg.Events.count()
		writes := cfg.Writes()
		out := cfg.Pass(ctx, PassInfo{Seq: seq, Trigger: trigger})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if closed(cfg.Stop) {
			return nil
		}
		w := wait{delay: cfg.Interval + cfg.splay(), trigger: Interval}
		switch out {
		case Failed, Deferred:
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
		w.seq, w.mark, w.own = seq, mark, cfg.Writes()-writes
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
	seq      int    // the pass that ended
	mark     counts // events counted when it started
	own      int64  // writes it sent
}

// wait blocks until the next pass is due and says why; false means stop.
func (c *Config) wait(ctx context.Context, w wait) (Trigger, bool) {
	timer := c.After(w.delay)
	var poll, window <-chan time.Time
	var wake <-chan struct{} // nil until the window is over
	if w.terminal {
		// Bad inputs: a pass would fail the same way, cluster events or not.
		if c.Inputs != nil {
			poll = c.After(c.InputPoll)
		}
	} else {
		window = c.After(c.Debounce)
	}
	seen := w.mark
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
		case <-c.Commits:
			return Commit, true
		case <-window:
			window = nil
			now := c.Events.count()
			heard := now.events - seen.events
			if now.forced > seen.forced || heard > w.own {
				c.Logf("pass %d: %d event(s) during the pass and %s after it, %d write(s) of its own: follow-up pass",
					w.seq, heard+now.forced-seen.forced, c.Debounce, w.own)
				return Event, true
			}
			if heard > 0 {
				c.Logf("pass %d: ignored %d event(s) of its own writes", w.seq, heard)
			}
			// An echo later than the window runs a pass, which finds
			// nothing to do: the safe side.
			seen = now
			wake = c.Events.wakeup()
		case <-wake:
			// The first event after the window: react at once.
			if now := c.Events.count(); now != seen {
				return Event, true
			}
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

package watch

import (
	"sync"
	"time"
)

// Events counts the notices of a watcher's Listeners for Run. Notify is
// safe from any goroutine and never blocks. Counting, rather than a
// signal that coalesces, lets the loop tell a pass's own echoes from an
// out-of-band change heard at the same time.
type Events struct {
	mu     sync.Mutex
	counts counts
	// recent holds the events counted lately (key: when the daemon
	// stamped them), so one event heard via two streams counts once.
	recent map[eventKey]time.Time
	wake   chan struct{}
}

// counts are the notices counted so far.
type counts struct {
	events int64 // lifecycle events: possibly the echo of a pass's write
	forced int64 // notices that always warrant a pass (Reconnected)
}

type eventKey struct {
	reason, location string
	at               int64 // the daemon's timestamp, ns
}

// dedupeFor is how long an event is remembered for dropping duplicates;
// far longer than any stream's delay.
const dedupeFor = time.Minute

// NewEvents returns an empty counter.
func NewEvents() *Events {
	return &Events{recent: map[eventKey]time.Time{}, wake: make(chan struct{}, 1)}
}

// Notify counts n. Targets of one cluster have a Listener each, and every
// member forwards the others' events, so the same event (same action,
// member and daemon timestamp) may come twice; it counts once.
func (e *Events) Notify(n Notice) {
	e.mu.Lock()
	switch {
	case n.Reason == Reconnected:
		// Events may have been missed: never taken for an echo.
		e.counts.forced++
	case n.Time.IsZero():
		e.counts.events++
	default:
		now := time.Now()
		k := eventKey{n.Reason, n.Location, n.Time.UnixNano()}
		if _, dup := e.recent[k]; dup {
			e.mu.Unlock()
			return
		}
		for old, at := range e.recent {
			if now.Sub(at) > dedupeFor {
				delete(e.recent, old)
			}
		}
		e.recent[k] = now
		e.counts.events++
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default: // a wakeup is pending; the loop reads the counts
	}
}

func (e *Events) count() counts {
	if e == nil {
		return counts{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts
}

func (e *Events) wakeup() <-chan struct{} {
	if e == nil {
		return nil
	}
	return e.wake
}

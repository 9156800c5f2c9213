package gitsrc

import (
	"context"
	"sync"
	"time"
)

// Follower polls a Repo for new commits and remembers which commit was
// last applied (good) and which failed to render or compile (bad), for the
// watch loop. It is safe for concurrent use.
type Follower struct {
	Repo *Repo
	// Poll is the time between fetches (default DefaultPoll).
	Poll time.Duration
	// MaxBackoff caps the delay after failed fetches (default: 16 polls,
	// at most 15 minutes, never less than Poll).
	MaxBackoff time.Duration
	// Logf receives fetch failures and new commits.
	Logf func(format string, args ...any)
	// After is time.After (tests).
	After func(time.Duration) <-chan time.Time

	changed chan struct{}

	mu       sync.Mutex
	head     string // last commit fetched
	fetchErr error  // the last fetch's error, nil after a success
	failures int    // fetches failed in a row
	next     time.Duration
	good     string            // last commit applied
	bad      map[string]string // commit -> why it was refused
}

// DefaultPoll is --git-poll's default.
const DefaultPoll = time.Minute

// Status is what the follower knows, for records and the status page.
type Status struct {
	URL  string // masked
	Ref  string
	Head string // last commit fetched
	Good string // last commit applied
	// FetchError is why the last fetch failed ("" after a success);
	// Failures counts the fetches failed in a row, NextFetch is the delay
	// before the next try.
	FetchError string
	Failures   int
	NextFetch  time.Duration
	// Bad maps the commits refused to why.
	Bad map[string]string
}

func (f *Follower) defaults() {
	if f.Poll <= 0 {
		f.Poll = DefaultPoll
	}
	if f.MaxBackoff <= 0 {
		f.MaxBackoff = min(16*f.Poll, 15*time.Minute)
	}
	f.MaxBackoff = max(f.MaxBackoff, f.Poll)
	if f.After == nil {
		f.After = time.After
	}
	if f.Logf == nil {
		f.Logf = func(string, ...any) {}
	}
	if f.changed == nil {
		f.changed = make(chan struct{}, 1)
	}
	if f.bad == nil {
		f.bad = map[string]string{}
	}
}

// Changed receives when a fetch found a new commit.
func (f *Follower) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defaults()
	return f.changed
}

// Start fetches once (when that fails, the commit an earlier run fetched
// stands in, if any), then keeps polling in the background until ctx
// ends.
func (f *Follower) Start(ctx context.Context) {
	f.mu.Lock()
	f.defaults()
	f.mu.Unlock()
	if err := f.FetchNow(ctx); err != nil {
		if h, cerr := f.Repo.Cached(ctx); cerr == nil {
			f.mu.Lock()
			if f.head == "" {
				f.head = h
			}
			f.mu.Unlock()
			f.Logf("using the commit fetched earlier, %s", Short(h))
		}
	}
	go f.loop(ctx)
}

func (f *Follower) loop(ctx context.Context) {
	for {
		f.mu.Lock()
		delay := f.next
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-f.After(delay):
		}
		_ = f.FetchNow(ctx)
	}
}

// FetchNow fetches at once and schedules the next fetch: after Poll, or,
// after a failure, Poll doubled per failure in a row up to MaxBackoff. A
// failed fetch keeps the head fetched before.
func (f *Follower) FetchNow(ctx context.Context) error {
	f.mu.Lock()
	f.defaults()
	f.mu.Unlock()
	h, err := f.Repo.Fetch(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		f.failures++
		f.fetchErr = err
		f.next = f.Poll
		for i := 0; i < f.failures && f.next < f.MaxBackoff; i++ {
			f.next *= 2
		}
		f.next = min(f.next, f.MaxBackoff)
		keep := "no commit yet"
		if f.head != "" {
			keep = "keeping " + Short(f.head)
		}
		f.Logf("git: %v (%d failure(s) in a row; %s; next fetch in %s)", err, f.failures, keep, f.next)
		return err
	}
	if f.failures > 0 {
		f.Logf("git: fetch of %s works again", f.Repo.Masked())
	}
	f.failures, f.fetchErr, f.next = 0, nil, f.Poll
	if h != f.head {
		if f.head != "" {
			f.Logf("git: new commit %s on %s (was %s)", Short(h), f.Repo.RefName(), Short(f.head))
		} else {
			f.Logf("git: %s at %s", f.Repo.RefName(), Short(h))
		}
		f.head = h
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
	return nil
}

// Head is the commit last fetched ("" when none) and the last fetch's error.
func (f *Follower) Head() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head, f.fetchErr
}

// Good is the commit last applied ("" before the first).
func (f *Follower) Good() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.good
}

// SetGood records hash as applied and drops the checkouts of other
// commits than it and the head.
func (f *Follower) SetGood(hash string) {
	f.mu.Lock()
	f.good = hash
	head := f.head
	f.mu.Unlock()
	if err := f.Repo.Prune(hash, head); err != nil {
		f.Logf("git: warning: failed to remove old checkouts: %v", err)
	}
}

// SetBad refuses hash: why says what failed.
func (f *Follower) SetBad(hash, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defaults()
	f.bad[hash] = why
}

// Bad says why hash was refused (false: it was not).
func (f *Follower) Bad(hash string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	why, ok := f.bad[hash]
	return why, ok
}

// Forget clears the refused commits (SIGHUP, or local inputs changed:
// the failure may have been theirs).
func (f *Follower) Forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bad = map[string]string{}
}

// Status is a snapshot of the follower.
func (f *Follower) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := Status{URL: f.Repo.Masked(), Ref: f.Repo.RefName(), Head: f.head, Good: f.good, Failures: f.failures, NextFetch: f.next,
		Bad: map[string]string{}}
	if f.fetchErr != nil {
		s.FetchError = f.fetchErr.Error()
	}
	for k, v := range f.bad {
		s.Bad[k] = v
	}
	return s
}

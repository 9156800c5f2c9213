// Package clusterlock serialises statectl's writes to one Incus cluster
// across machines: several watchers (one per member, or several admin
// machines) hear the same drift at once, and without it each would correct
// it. Incus's ETag check cannot stop that: PUT /1.0 checks the ETag
// against the receiving member's cached config and then writes, with no
// lock in between, so concurrent writers all pass the check.
//
// The lock is a profile, statectl-lock, in the cluster's default project:
// creating an object whose name exists fails in the cluster database (a
// unique constraint under Raft), so exactly one creator wins. The holder
// deletes it when its write is done; a write Incus acknowledged has reached
// every online member (Incus notifies them before it answers), so the next
// holder's fresh reads see it and find nothing to correct.
//
// A holder that dies leaves the profile behind. The holder therefore
// refreshes a heartbeat in it (every TTL/3) while it holds it, and a waiter
// breaks a lock whose heartbeat it has seen unchanged for the holder's TTL,
// timed on the waiter's own clock (no clock agreement between machines is
// needed), or at once when the holder ran on the waiter's machine and its
// process is gone.
package clusterlock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// Profile is the name of the profile that is the lock.
const Profile = "statectl-lock"

// Defaults.
const (
	DefaultTTL  = 30 * time.Second
	DefaultPoll = 50 * time.Millisecond
)

// Profile config keys.
const (
	keyHost     = "user.statectl.host"
	keyPID      = "user.statectl.pid"
	keyFunction = "user.statectl.function"
	keyTarget   = "user.statectl.target"
	keySince    = "user.statectl.since"
	keyNonce    = "user.statectl.nonce"
	keyTTL      = "user.statectl.ttl"
	keyBeat     = "user.statectl.beat"
)

// Holder says who holds the lock.
type Holder struct {
	Host     string
	PID      int
	Function string // state.watch, state.apply
	Target   string
	Since    time.Time
}

func (h Holder) String() string {
	since := ""
	if !h.Since.IsZero() {
		since = ", since " + h.Since.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s for %s (PID %d on %s%s)", h.Function, h.Target, h.PID, h.Host, since)
}

// BusyError says the lock stayed held by another run for the whole wait.
type BusyError struct {
	Holder Holder
	Waited time.Duration
	// TTL is the holder's: silence this long breaks its lock.
	TTL time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("the cluster lock is held by %s (waited %s)", e.Holder, e.Waited.Round(time.Millisecond))
}

// Hint says how to get past a lock that is not released.
func (e *BusyError) Hint() string {
	return fmt.Sprintf("it is released when that run's write is done; a holder that died is overridden once its heartbeat has been silent for %s (or at once from its own machine), or delete the profile: incus profile delete %s --project default", e.TTL, Profile)
}

// Locker takes the lock for one process. It remembers, across
// acquisitions, how long it has seen each foreign lock unchanged.
type Locker struct {
	// TTL is how long a holder's heartbeat may stay silent before a
	// waiter breaks its lock (default DefaultTTL).
	TTL time.Duration
	// Poll is the delay between attempts while the lock is held.
	Poll time.Duration
	// Logf, if set, says when a lock is broken or lost.
	Logf func(format string, args ...any)

	host string
	pid  int
	now  func() time.Time // tests move time

	mu   sync.Mutex
	seen map[string]sighting // by nonce
	// writes counts the requests that changed something (create,
	// heartbeat, delete): the watch loop weighs its passes' own writes
	// against the events it hears, and the lock's make none it listens to.
	writes atomic.Int64
}

// sighting is a foreign lock's heartbeat as first seen.
type sighting struct {
	beat string
	at   time.Time
}

// New returns a Locker for this process.
func New() *Locker {
	host, _ := os.Hostname()
	return &Locker{host: host, pid: os.Getpid(), now: time.Now, seen: map[string]sighting{}}
}

// Writes returns how many write requests the lock has sent.
func (l *Locker) Writes() int64 { return l.writes.Load() }

func (l *Locker) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return DefaultTTL
}

func (l *Locker) poll() time.Duration {
	if l.Poll > 0 {
		return l.Poll
	}
	return DefaultPoll
}

func (l *Locker) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Lock is a held lock.
type Lock struct {
	l *Locker
	// srv is the connection the lock was taken through; others, if set,
	// gives other members of the same cluster for the heartbeat and the
	// release when srv stops answering (its member is being upgraded).
	mu     sync.Mutex // guards srv and others (heartbeat and Release)
	srv    incus.InstanceServer
	others func() []incus.InstanceServer
	nonce  string
	stop   chan struct{}
	lost   atomic.Bool
	once   sync.Once
}

// Acquire takes the lock on srv's cluster for h (Host, PID and Since are
// filled in), waiting up to wait while another run holds it. It returns a
// *BusyError if the wait ends first. others, if not nil, is asked (once,
// and only when srv fails) for connections to other members of the same
// cluster, which then carry the heartbeat and the release.
func (l *Locker) Acquire(ctx context.Context, srv incus.InstanceServer, h Holder, wait time.Duration, others func() []incus.InstanceServer) (*Lock, error) {
	srv = srv.UseProject(api.ProjectDefaultName)
	h.Host, h.PID, h.Since = l.host, l.pid, l.now()
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	start := l.now()
	vanished := 0
	for {
		err := l.create(srv, h, nonce)
		if err == nil {
			k := &Lock{l: l, srv: srv, others: others, nonce: nonce, stop: make(chan struct{})}
			go k.heartbeat()
			return k, nil
		}
		// Whether the create lost to an existing lock or failed on its
		// own, the profile as it is now says which.
		cur, _, gerr := srv.GetProfile(Profile)
		if gerr != nil {
			// Incus answers "The profile already exists" with no
			// distinct status: a lock released between the create and
			// the read looks like this too, so try again, a few times.
			if api.StatusErrorCheck(gerr, http.StatusNotFound) {
				if vanished++; vanished < 3 {
					continue
				}
				return nil, fmt.Errorf("failed to create the cluster lock (profile %s): %w", Profile, err)
			}
			return nil, fmt.Errorf("failed to read the cluster lock (profile %s): %w", Profile, gerr)
		}
		vanished = 0
		holder, ttl := holderOf(cur)
		if l.stale(cur, holder, ttl) {
			if err := l.breakLock(srv, cur, holder); err != nil {
				return nil, err
			}
			continue
		}
		waited := l.now().Sub(start)
		if waited >= wait {
			return nil, &BusyError{Holder: holder, Waited: waited, TTL: ttl}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(l.poll(), wait-waited)):
		}
	}
}

func (l *Locker) create(srv incus.InstanceServer, h Holder, nonce string) error {
	l.writes.Add(1)
	return srv.CreateProfile(ProfileOf(h, nonce, l.ttl()))
}

// ProfileOf is the lock profile holder h creates: nonce tells its lock
// from a later one, ttl is how long its heartbeat may stay silent. Tests
// plant other runs' locks with it.
func ProfileOf(h Holder, nonce string, ttl time.Duration) api.ProfilesPost {
	return api.ProfilesPost{Name: Profile, ProfilePut: api.ProfilePut{
		Description: "statectl cluster lock: held while a statectl run writes to this cluster (see statectl's docs/watch.md)",
		Config: map[string]string{
			keyHost: h.Host, keyPID: strconv.Itoa(h.PID), keyFunction: h.Function, keyTarget: h.Target,
			keySince: h.Since.UTC().Format(time.RFC3339Nano), keyNonce: nonce,
			keyTTL: ttl.String(), keyBeat: "0",
		},
	}}
}

// holderOf reads the holder and its TTL from the lock profile.
func holderOf(p *api.Profile) (Holder, time.Duration) {
	c := p.Config
	pid, _ := strconv.Atoi(c[keyPID])
	since, _ := time.Parse(time.RFC3339Nano, c[keySince])
	ttl, err := time.ParseDuration(c[keyTTL])
	if err != nil || ttl <= 0 {
		ttl = DefaultTTL
	}
	return Holder{Host: c[keyHost], PID: pid, Function: c[keyFunction], Target: c[keyTarget], Since: since}, ttl
}

// stale reports whether the lock in p is abandoned: its holder ran here
// and is gone, or its heartbeat has not moved for its TTL.
func (l *Locker) stale(p *api.Profile, h Holder, ttl time.Duration) bool {
	if h.Host == l.host && h.PID > 0 && h.PID != l.pid && !alive(h.PID) {
		return true
	}
	nonce, beat := p.Config[keyNonce], p.Config[keyBeat]
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.seen[nonce]
	if !ok || s.beat != beat {
		l.seen[nonce] = sighting{beat: beat, at: now}
		return false
	}
	return now.Sub(s.at) >= ttl
}

// breakLock deletes an abandoned lock, unless it moved since it was read.
func (l *Locker) breakLock(srv incus.InstanceServer, p *api.Profile, h Holder) error {
	cur, _, err := srv.GetProfile(Profile)
	if err != nil {
		if api.StatusErrorCheck(err, http.StatusNotFound) {
			return nil
		}
		return fmt.Errorf("failed to read the cluster lock (profile %s): %w", Profile, err)
	}
	if cur.Config[keyNonce] != p.Config[keyNonce] || cur.Config[keyBeat] != p.Config[keyBeat] {
		return nil // renewed or replaced meanwhile: look again
	}
	l.logf("breaking the cluster lock of %s: its holder is gone", h)
	l.writes.Add(1)
	if err := srv.DeleteProfile(Profile); err != nil && !api.StatusErrorCheck(err, http.StatusNotFound) {
		return fmt.Errorf("failed to break the abandoned cluster lock (profile %s): %w", Profile, err)
	}
	l.mu.Lock()
	delete(l.seen, p.Config[keyNonce])
	l.mu.Unlock()
	return nil
}

// heartbeat moves the beat every TTL/3 until Release. Release does not
// wait for it: a beat stuck in a write (Incus tells every member about a
// profile update, and waits for a frozen one) must not hold up the run.
func (k *Lock) heartbeat() {
	tick := time.NewTicker(k.l.ttl() / 3)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-k.stop:
			return
		case <-tick.C:
		}
		p, etag, srv, err := k.read()
		if closed(k.stop) {
			return
		}
		if err != nil && !api.StatusErrorCheck(err, http.StatusNotFound) {
			// The member may be restarting (a rolling update holds the
			// lock through it): try again at the next beat; silence
			// longer than the TTL lets another run break the lock.
			k.l.logf("warning: failed to refresh the cluster lock: %v", err)
			continue
		}
		if err != nil || p.Config[keyNonce] != k.nonce {
			k.lost.Store(true)
			k.l.logf("warning: lost the cluster lock (profile %s was removed or replaced)", Profile)
			return
		}
		put := p.Writable()
		put.Config[keyBeat] = strconv.Itoa(n)
		k.l.writes.Add(1)
		if err := srv.UpdateProfile(Profile, put, etag); err != nil && !closed(k.stop) {
			k.l.logf("warning: failed to refresh the cluster lock: %v", err)
		}
	}
}

// read reads the lock profile through srv, or, when srv fails (not with
// 404: the lock is gone), through the first other member that answers,
// which then serves the lock from there on. It returns the connection
// that answered.
func (k *Lock) read() (*api.Profile, string, incus.InstanceServer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, etag, err := k.srv.GetProfile(Profile)
	if err == nil || api.StatusErrorCheck(err, http.StatusNotFound) || k.others == nil {
		return p, etag, k.srv, err
	}
	alts := k.others()
	k.others = nil // asked once: the one that answers is kept as srv
	for _, alt := range alts {
		alt = alt.UseProject(api.ProjectDefaultName)
		if p2, etag2, err2 := alt.GetProfile(Profile); err2 == nil || api.StatusErrorCheck(err2, http.StatusNotFound) {
			k.l.logf("warning: the cluster lock's member does not answer (%v): using another member of the cluster", err)
			k.srv = alt
			return p2, etag2, alt, err2
		}
	}
	return p, etag, k.srv, err
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Lost reports whether another run broke this lock while it was held
// (its heartbeat could not reach the cluster for the TTL).
func (k *Lock) Lost() bool { return k.lost.Load() }

// Release deletes the lock if it is still this one's.
func (k *Lock) Release() error {
	var err error
	k.once.Do(func() {
		close(k.stop)
		p, _, srv, gerr := k.read()
		for try := 1; gerr != nil && !api.StatusErrorCheck(gerr, http.StatusNotFound) && try < 5; try++ {
			time.Sleep(time.Duration(try) * 200 * time.Millisecond) // a member restarting
			p, _, srv, gerr = k.read()
		}
		if gerr != nil && !api.StatusErrorCheck(gerr, http.StatusNotFound) {
			err = fmt.Errorf("failed to release the cluster lock (profile %s; other runs break it after %s of silence): %w", Profile, k.l.ttl(), gerr)
			return
		}
		if gerr != nil || p.Config[keyNonce] != k.nonce {
			return // broken by another run: not ours to delete
		}
		k.l.writes.Add(1)
		if derr := srv.DeleteProfile(Profile); derr != nil && !api.StatusErrorCheck(derr, http.StatusNotFound) {
			err = fmt.Errorf("failed to release the cluster lock (profile %s): %w", Profile, derr)
		}
	})
	return err
}

func newNonce() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("failed to make a lock nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// alive reports whether a process with pid exists on this machine.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

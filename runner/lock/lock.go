// Package lock serialises runs per target on one machine: `statectl apply`
// and every `statectl watch` pass take an exclusive flock on a file named
// for the target, so two runs never plan and apply against the same target
// at once. The kernel drops an flock when its process dies, so a crashed run
// never leaves a stale lock behind.
//
// The holder writes who it is (PID, function, start time, jid) into the
// file, so a run that finds the lock taken can say what holds it, as Salt
// does: The function "state.apply" is running as PID N ...
package lock

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Holder says who holds a lock.
type Holder struct {
	PID      int    `json:"pid"`
	Function string `json:"function"` // state.apply, state.watch
	Target   string `json:"target"`
	// Endpoint is the target's daemon (socket path or URL), if any. It is
	// part of the lock's key, so two daemons sharing a roster name (two
	// labs) do not block each other.
	Endpoint string    `json:"endpoint,omitempty"`
	Started  time.Time `json:"started"`
}

// JID is the holder's Salt-style job id (start time to the microsecond).
func (h Holder) JID() string {
	return strings.Replace(h.Started.UTC().Format("20060102150405.000000"), ".", "", 1)
}

// BusyError says the lock is held by another run.
type BusyError struct {
	Target string
	// Holder is what the lock file says; zero when it could not be read.
	Holder Holder
}

func (e *BusyError) Error() string {
	h := e.Holder
	if h.PID == 0 {
		return fmt.Sprintf("another run is in progress for %s", e.Target)
	}
	// Salt's wording, so operators recognise it.
	return fmt.Sprintf("another run is in progress for %s: The function %q is running as PID %d and was started at %s with jid %s",
		e.Target, h.Function, h.PID, h.Started.UTC().Format("2006, Jan 02 15:04:05.000000"), h.JID())
}

// DefaultDir is where lock files live when --lock-dir is not given:
// $XDG_RUNTIME_DIR/statectl, else /run/statectl when /run is writable
// (root), else /tmp/statectl-UID. All three are per-machine, and the first
// two are cleaned at boot.
func DefaultDir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "statectl")
	}
	if syscall.Access("/run", 2 /* W_OK */) == nil {
		return "/run/statectl"
	}
	return tmpFallback()
}

// tmpFallback is the last resort of DefaultDir, in a directory every user
// may write to.
func tmpFallback() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("statectl-%d", os.Getuid()))
}

// Path is the lock file of target (at endpoint, "" for none) in dir.
// Names are escaped so that any roster name maps to one file inside dir.
func Path(dir, target, endpoint string) string {
	var b strings.Builder
	for _, r := range target {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "%%%02X", r)
		}
	}
	name := b.String()
	if name == "" || name == "." || name == ".." {
		name = "%" + name
	}
	if endpoint != "" {
		sum := sha256.Sum256([]byte(endpoint))
		name += "@" + hex.EncodeToString(sum[:6])
	}
	return filepath.Join(dir, name+".lock")
}

// Lock is a held lock; Release (or the process's exit) frees it.
type Lock struct {
	f    *os.File
	path string
}

// pollInterval is how often a waiting Acquire retries: flock(2) cannot be
// interrupted by a context, so waiting is polling with LOCK_NB.
const pollInterval = 50 * time.Millisecond

// Acquire takes target's lock in dir, creating dir (0700) if needed. It
// waits up to timeout (0: not at all) or until ctx ends, then returns a
// *BusyError naming the holder.
func Acquire(ctx context.Context, dir string, h Holder, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create lock dir: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := Path(dir, h.Target, h.Endpoint)
	// O_NOFOLLOW: a symlink planted at the lock path must not make us
	// truncate and write the file it points to.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("failed to open lock file: %s is a symbolic link; refusing to follow it (remove it)", path)
		}
		return nil, fmt.Errorf("failed to open lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("failed to lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, &BusyError{Target: h.Target, Holder: readHolder(path)}
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Started.IsZero() {
		h.Started = time.Now()
	}
	data, _ := json.Marshal(h)
	// Truncate then write: readers that race see an empty file (no holder
	// details), never a mix of two holders.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(data, '\n'), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// checkDir refuses a lock directory that another user could tamper with:
// one that is world-writable (without the sticky bit) or, for the /tmp
// fallback, any directory not owned by us, since another user can create
// /tmp/statectl-UID first and then swap the lock files inside.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("failed to check lock dir: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || !fi.IsDir() {
		return fmt.Errorf("failed to use lock dir %s: not a directory", dir)
	}
	uid := uint32(os.Getuid())
	if st.Uid == uid {
		return nil
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("refusing lock dir %s: it is world-writable and owned by uid %d, not by us (uid %d); remove it or give --lock-dir a directory of ours", dir, st.Uid, uid)
	}
	if filepath.Clean(dir) == tmpFallback() {
		return fmt.Errorf("refusing lock dir %s: owned by uid %d, not by us (uid %d); another user may have created it: remove it or give --lock-dir", dir, st.Uid, uid)
	}
	return nil
}

// Release frees the lock. The file stays: removing it would let a waiter
// lock an unlinked inode while a newcomer locks a new file.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

func readHolder(path string) Holder {
	var h Holder
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return h
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return h
	}
	_ = json.Unmarshal(data, &h)
	return h
}

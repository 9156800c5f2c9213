// Package labtest starts a real incusd lab for an integration test.
//
// Each lab takes a slot: a loopback /24 (127.0.S.11, .12 ...) and a
// directory ROOT/slotS, held by an flock on ROOT/slotS.lock for the lab's
// life. Test binaries of different packages run in parallel processes; the
// lock keeps them apart, and the kernel drops it when a process dies, so a
// crashed run's slot is reclaimed: its leftover daemons are killed and its
// mounts detached by the next Start. ROOT is $STATECTL_LAB_ROOT or
// /tmp/statectl-lab (short, because unix socket paths are limited to 107
// bytes).
//
// StartNetns is Start in the lab's netns mode: slot S's members get
// 198.18.S.11, .12 ... inside their own network namespaces, named with the
// tag tS (stltSbr, stltSn1 ...), so parallel labs never share a kernel
// object; the sweep of a reclaimed slot removes them too.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/lab"
)

const (
	firstSlot = 1
	lastSlot  = 64
)

// Root is the directory holding the slots.
func Root() string {
	if r := os.Getenv("STATECTL_LAB_ROOT"); r != "" {
		return r
	}
	return filepath.Join(os.TempDir(), "statectl-lab")
}

// Start brings up n unclustered daemons for t and stops them (and removes
// their directory) in t.Cleanup, whether the test passes or not. Without
// incusd (or root) it skips the test, unless CI=true: integration tests
// never skip in CI.
func Start(t testing.TB, n int) *lab.Lab {
	t.Helper()
	return start(t, n, false)
}

// StartNetns is Start with each member in its own network namespace (see
// lab.Options.Netns): what bridge networks need.
func StartNetns(t testing.TB, n int) *lab.Lab {
	t.Helper()
	return start(t, n, true)
}

// slotOptions are the lab options of slot s.
func slotOptions(s, n int, netns bool) lab.Options {
	if netns {
		return lab.Options{Members: n, Netns: true, Prefix: slotPrefix(s, true), Tag: slotTag(s)}
	}
	return lab.Options{Members: n, Prefix: slotPrefix(s, false)}
}

// slotPrefix is the address prefix of slot s.
func slotPrefix(s int, netns bool) string {
	if netns {
		return "198.18." + strconv.Itoa(s)
	}
	return "127.0." + strconv.Itoa(s)
}

// slotTag names slot s's namespaces and interfaces; the "t" keeps them
// apart from a `statectl lab` tag (the prefix's last octet).
func slotTag(s int) string { return "t" + strconv.Itoa(s) }

func start(t testing.TB, n int, netns bool) *lab.Lab {
	t.Helper()
	if err := lab.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("integration test needs a lab: %v", err)
		}
		t.Skipf("skipping integration test: %v", err)
	}
	root := Root()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatalf("failed to create lab root: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	sweep(ctx, root)

	var errs []error
	for s := firstSlot; s <= lastSlot; s++ {
		lock, ok := tryLock(filepath.Join(root, "slot"+strconv.Itoa(s)+".lock"))
		if !ok {
			continue
		}
		dir := filepath.Join(root, "slot"+strconv.Itoa(s))
		start := time.Now()
		l, err := lab.UpWith(ctx, dir, slotOptions(s, n, netns))
		if err != nil {
			lock.Close()
			errs = append(errs, fmt.Errorf("slot %d: %w", s, err))
			if errors.Is(err, lab.ErrAddressInUse) {
				continue
			}
			t.Fatalf("failed to start lab: %v", errors.Join(errs...))
		}
		t.Logf("lab: %d daemons up in %s (%s)", n, time.Since(start).Round(time.Millisecond), dir)
		t.Cleanup(func() {
			defer lock.Close()
			if t.Failed() {
				for _, m := range l.Members {
					t.Logf("--- %s (last lines) ---\n%s", m.Log, lab.LogTail(m.Log, 30))
				}
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := l.Down(ctx); err != nil {
				t.Errorf("failed to stop lab: %v", err)
				return
			}
			t.Logf("lab: down in %s", time.Since(start).Round(time.Millisecond))
		})
		return l
	}
	t.Fatalf("failed to start lab: no free slot in %s: %v", root, errors.Join(errs...))
	return nil
}

// sweep removes labs left in unlocked slots by crashed runs (a test binary
// killed by -timeout never runs its cleanups; its daemons, namespaces and
// interfaces live on).
func sweep(ctx context.Context, root string) {
	for s := firstSlot; s <= lastSlot; s++ {
		dir := filepath.Join(root, "slot"+strconv.Itoa(s))
		_, err := os.Stat(dir)
		stale := err == nil || lab.NetnsLeft(slotTag(s))
		if !stale {
			continue
		}
		lock, ok := tryLock(dir + ".lock")
		if !ok {
			continue
		}
		if err == nil {
			l, err := lab.Load(dir)
			if err != nil {
				l = &lab.Lab{Dir: dir}
			}
			_ = l.Down(ctx)
		}
		// Also when lab.json was lost or never written.
		_ = lab.RemoveNetns(slotTag(s), slotPrefix(s, true))
		lock.Close()
	}
}

// tryLock takes an exclusive flock on path without waiting. Closing the
// file releases it.
func tryLock(path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

// Client connects to member name of l over its unix socket, as `incus`
// would, for a test's checks and out-of-band edits. Requests are bounded:
// a frozen member fails the test instead of hanging it. The connection is
// closed when the test ends.
func Client(t testing.TB, l *lab.Lab, name string) incus.InstanceServer {
	t.Helper()
	m, ok := l.Member(name)
	if !ok {
		t.Fatalf("no lab member %s", name)
	}
	c, err := incus.ConnectIncusUnix(m.Socket, &incus.ConnectionArgs{
		HTTPClient: &http.Client{Timeout: 30 * time.Second}, SkipGetEvents: true,
	})
	if err != nil {
		t.Fatalf("failed to connect to lab member %s: %v", name, err)
	}
	t.Cleanup(c.Disconnect)
	return c
}

package clusterlock

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/lab/labtest"
)

// other is a Locker that looks like another process (on this machine,
// unless host is set).
func other(pid int, host string) *Locker {
	l := New()
	l.pid = pid
	if host != "" {
		l.host = host
	}
	return l
}

func profileExists(t *testing.T, srv incus.InstanceServer) (*api.Profile, bool) {
	t.Helper()
	p, _, err := srv.GetProfile(Profile)
	if api.StatusErrorCheck(err, 404) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestClusterLock runs the lock against a real 3-member cluster:
// exclusion (contenders going through different members), who holds it,
// heartbeat, and the two ways an abandoned lock is broken.
func TestClusterLock(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx := context.Background()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	srv := labtest.Client(t, l, "node1")
	members := []incus.InstanceServer{srv, labtest.Client(t, l, "node2"), labtest.Client(t, l, "node3")}
	h := Holder{Function: "state.watch", Target: "node1"}

	t.Run("held and released", func(t *testing.T) {
		a := New()
		k, err := a.Acquire(ctx, srv, h, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := profileExists(t, srv)
		if !ok || p.Config[keyFunction] != "state.watch" || p.Config[keyPID] != strconv.Itoa(a.pid) {
			t.Fatalf("lock profile: %v %+v", ok, p)
		}
		b := other(1, "")
		_, err = b.Acquire(ctx, srv, Holder{Function: "state.apply", Target: "node2"}, 200*time.Millisecond, nil)
		var busy *BusyError
		if !errors.As(err, &busy) || busy.Holder.Target != "node1" || busy.Holder.PID != a.pid || busy.Waited < 200*time.Millisecond {
			t.Fatalf("second acquire: %v", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "state.watch for node1 (PID "+strconv.Itoa(a.pid)) {
			t.Errorf("busy error: %s", msg)
		}
		if !strings.Contains(busy.Hint(), "incus profile delete "+Profile) {
			t.Errorf("hint: %s", busy.Hint())
		}
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
		if _, ok := profileExists(t, srv); ok {
			t.Fatal("lock profile left after release")
		}
		if a.Writes() != 2 {
			t.Errorf("create and delete: %d writes", a.Writes())
		}
	})

	t.Run("mutual exclusion", func(t *testing.T) {
		// Eight contenders, each on its own machine (a made-up PID on
		// this one would look dead) and creating through one of the
		// three members, each holding the lock briefly: never two at
		// once, and every one gets it.
		var in, most, got atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := other(100000+i, "admin-"+strconv.Itoa(i)).Acquire(ctx, members[i%3], Holder{Function: "state.watch", Target: "node" + strconv.Itoa(i)}, 30*time.Second, nil)
				if err != nil {
					errs <- err
					return
				}
				n := in.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				in.Add(-1)
				got.Add(1)
				if err := k.Release(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if most.Load() != 1 || got.Load() != 8 {
			t.Fatalf("at most %d holders at once, %d of 8 got it", most.Load(), got.Load())
		}
	})

	t.Run("holder gone from this machine", func(t *testing.T) {
		dead := other(deadPID(t), "")
		if _, err := dead.Acquire(ctx, srv, h, 0, nil); err != nil {
			t.Fatal(err)
		} // never released: the process "died"
		start := time.Now()
		k, err := New().Acquire(ctx, srv, h, 0, nil)
		if err != nil {
			t.Fatalf("abandoned lock not broken at once: %v", err)
		}
		t.Logf("broken in %s", time.Since(start))
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("silent holder elsewhere", func(t *testing.T) {
		// A lock left by a machine that went away: its heartbeat stops.
		if err := srv.CreateProfile(ProfileOf(Holder{Host: "admin-gone", PID: 4242, Function: "state.watch", Target: "node1"}, "feed", time.Second)); err != nil {
			t.Fatal(err)
		}
		w := New()
		if _, err := w.Acquire(ctx, srv, h, 300*time.Millisecond, nil); err == nil {
			t.Fatal("a lock silent for less than its TTL was broken")
		}
		start := time.Now()
		k, err := w.Acquire(ctx, srv, h, 5*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The sighting began in the first attempt: the TTL counts from it.
		if d := time.Since(start); d < 500*time.Millisecond || d > 4*time.Second {
			t.Errorf("broken after %s, want about 1s after the first sighting", d)
		}
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("heartbeat keeps a slow holder", func(t *testing.T) {
		a := other(1, "admin-a") // alive elsewhere: only its heartbeat says so
		a.TTL = 600 * time.Millisecond
		k, err := a.Acquire(ctx, srv, h, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New().Acquire(ctx, srv, h, 2*time.Second, nil)
		var busy *BusyError
		if !errors.As(err, &busy) {
			t.Fatalf("a beating lock was broken: %v", err)
		}
		p, _ := profileExists(t, srv)
		if beat, _ := strconv.Atoi(p.Config[keyBeat]); beat < 2 {
			t.Errorf("heartbeat at %d after 2s with a 600ms TTL", beat)
		}
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("holder's member restarts", func(t *testing.T) {
		// A rolling update holds the lock through the restart of the
		// member it talks to: the heartbeat's failures are not a loss,
		// and the release still deletes the lock.
		a := New()
		a.TTL = 600 * time.Millisecond // a beat every 200ms: some fall in the restart
		a.Logf = t.Logf
		k, err := a.Acquire(ctx, members[1], h, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		took, err := l.Restart(ctx, "node2")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("node2 restarted in %s", took)
		time.Sleep(500 * time.Millisecond) // beats after the restart
		if k.Lost() {
			t.Fatal("a restart of the holder's member counted as losing the lock")
		}
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
		if _, ok := profileExists(t, srv); ok {
			t.Fatal("lock left after the release")
		}
	})

	t.Run("holder's member frozen", func(t *testing.T) {
		// The member the lock was taken through stops answering (an
		// upgrade): the lock's reads move to another member, and the
		// release deletes the lock from there. (Its heartbeat writes
		// still fail while the frozen member counts as online: Incus
		// tells every member about a profile update.)
		m2, _ := l.Member("node2")
		quick, err := incus.ConnectIncusUnix(m2.Socket, &incus.ConnectionArgs{
			HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}, SkipGetEvents: true})
		if err != nil {
			t.Fatal(err)
		}
		defer quick.Disconnect()
		a := other(1, "admin-a")
		a.TTL = 900 * time.Millisecond
		a.Logf = t.Logf
		asked := 0
		k, err := a.Acquire(ctx, quick, h, 0, func() []incus.InstanceServer { asked++; return []incus.InstanceServer{members[0]} })
		if err != nil {
			t.Fatal(err)
		}
		thaw := labtest.Freeze(t, l, "node2")
		time.Sleep(time.Second) // heartbeats while frozen
		if err := k.Release(); err != nil {
			t.Fatalf("release with the lock's member frozen: %v", err)
		}
		thaw()
		if _, ok := profileExists(t, srv); ok || asked != 1 || k.Lost() {
			t.Fatalf("after the release: lock left %v, others asked %d times, lost %v", ok, asked, k.Lost())
		}
	})

	t.Run("release keeps a lock taken over", func(t *testing.T) {
		a := other(1, "admin-a")
		a.TTL = 300 * time.Millisecond
		k, err := a.Acquire(ctx, srv, h, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Someone deletes it by hand and another run takes it.
		if err := srv.DeleteProfile(Profile); err != nil {
			t.Fatal(err)
		}
		k2, err := New().Acquire(ctx, srv, h, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // a heartbeat notices
		if !k.Lost() {
			t.Error("the first holder did not notice it lost the lock")
		}
		if err := k.Release(); err != nil {
			t.Fatal(err)
		}
		if _, ok := profileExists(t, srv); !ok {
			t.Fatal("release deleted the lock another run holds")
		}
		if err := k2.Release(); err != nil {
			t.Fatal(err)
		}
	})
}

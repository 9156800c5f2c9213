package watch_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/watch"
)

// memberSet is `INCUS_DIR=DIR/NAME incus config set KEY VALUE`: through the
// member's own socket, so a member-local key is set on that member.
func memberSet(t *testing.T, l *lab.Lab, name, key, value string) {
	t.Helper()
	c := labtest.Client(t, l, name)
	srv, etag, err := c.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	put := srv.Writable()
	put.Config[key] = value
	if err := c.UpdateServer(put, etag); err != nil {
		t.Fatal(err)
	}
}

// signal sends sig to member name's daemon.
func signal(t *testing.T, l *lab.Lab, name string, sig syscall.Signal) {
	t.Helper()
	m, _ := l.Member(name)
	if err := syscall.Kill(m.PID, sig); err != nil {
		t.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		labtest.WaitStopped(t, m.PID)
	}
}

// TestListenerFollowsCluster: a listener for node1 hears what happens on
// the other members through node1 (with their Location), fails over when
// the member it follows freezes (SIGSTOP: the socket stays open) or dies
// (SIGTERM), and says so with a Reconnected notice.
func TestListenerFollowsCluster(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster formed in %s", time.Since(start).Round(time.Millisecond))

	notices := make(chan watch.Notice, 100)
	ups := make(chan string, 10)
	lst := &watch.Listener{
		Sources: watch.ClusterSources(func() (*roster.Roster, error) { return roster.Load(l.RosterPath()) }, "node1",
			incusconn.Options{ConnectTimeout: 2 * time.Second, RequestTimeout: 2 * time.Second}),
		Liveness: time.Second,
		Notify:   func(n watch.Notice) { notices <- n },
		Up:       func(via string) { ups <- via },
		Logf:     t.Logf,
	}
	done := make(chan struct{})
	go func() { lst.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	waitUp := func(want string, limit time.Duration) time.Duration {
		t.Helper()
		t0 := time.Now()
		select {
		case via := <-ups:
			if via != want {
				t.Fatalf("following %s, want %s", via, want)
			}
		case <-time.After(limit):
			t.Fatalf("no stream via %s within %s", want, limit)
		}
		return time.Since(t0).Round(time.Millisecond)
	}
	// waitNotice changes a key with set until a notice matching ok
	// arrives: a member pulls another's events only once its heartbeat
	// has seen it, so the first change may go unheard.
	waitNotice := func(set func(i int), ok func(watch.Notice) bool) (watch.Notice, time.Duration) {
		t.Helper()
		t0 := time.Now()
		deadline := time.After(45 * time.Second)
		for i := 0; ; i++ {
			set(i)
			retry := time.After(2 * time.Second)
			for {
				select {
				case n := <-notices:
					if ok(n) {
						return n, time.Since(t0).Round(time.Millisecond)
					}
					continue
				case <-retry:
				case <-deadline:
					t.Fatalf("no matching notice within 45s")
				}
				break
			}
		}
	}
	waitUp("node1", 10*time.Second)

	// A cluster-wide key set through node3 is heard through node1.
	n, took := waitNotice(func(i int) { memberSet(t, l, "node3", "images.auto_update_interval", fmt.Sprint(10+i)) },
		func(n watch.Notice) bool { return n.Location == "node3" })
	if n.Reason != "config-updated" || n.Via != "node1" {
		t.Fatalf("notice for a change through node3: %+v", n)
	}
	t.Logf("change through node3 heard via node1 after %s", took)

	// A member-local key set on node2 is heard through node1 too.
	n, took = waitNotice(func(i int) { memberSet(t, l, "node2", "core.metrics_address", fmt.Sprintf("127.0.0.1:%d", 19100+i)) },
		func(n watch.Notice) bool { return n.Location == "node2" })
	if n.Reason != "config-updated" || n.Via != "node1" {
		t.Fatalf("notice for a member-local change on node2: %+v", n)
	}
	t.Logf("member-local change on node2 heard via node1 after %s", took)

	// node1 freezes: its socket stays open, only the missing pong tells.
	signal(t, l, "node1", syscall.SIGSTOP)
	t.Cleanup(func() { m, _ := l.Member("node1"); _ = syscall.Kill(m.PID, syscall.SIGCONT) })
	t.Logf("node1 frozen: failed over to node2 after %s (liveness 1s)", waitUp("node2", 30*time.Second))
	n, _ = waitNotice(func(int) {}, func(n watch.Notice) bool { return n.Reason == watch.Reconnected })
	if n.Via != "node2" {
		t.Fatalf("reconnection notice: %+v", n)
	}
	signal(t, l, "node1", syscall.SIGCONT)

	// node2 dies: back to the target, node1 (tried first again).
	signal(t, l, "node2", syscall.SIGTERM)
	t.Logf("node2 stopped: failed over to node1 after %s", waitUp("node1", 30*time.Second))
	n, took = waitNotice(func(i int) { memberSet(t, l, "node3", "images.auto_update_interval", fmt.Sprint(20+i)) },
		func(n watch.Notice) bool { return n.Location == "node3" })
	if n.Via != "node1" {
		t.Fatalf("notice after failover: %+v", n)
	}
	t.Logf("after failover, change through node3 heard via node1 after %s", took)
}

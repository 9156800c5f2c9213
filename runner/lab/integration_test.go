package lab_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
)

// TestLabLifecycle runs real daemons: Up, Status, idempotent Up, Load,
// then Down leaves no process, mount or directory behind.
func TestLabLifecycle(t *testing.T) {
	l := labtest.Start(t, 2)
	ctx := context.Background()

	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 {
		t.Fatalf("status has %d members", len(st))
	}
	for _, s := range st {
		if !s.Running || !s.Ready || s.Clustered || s.Version == "" {
			t.Errorf("%s: status %+v, want running, ready, unclustered", s.Name, s)
		}
		// core.https_address was set: the daemon listens on its address.
		c, err := net.DialTimeout("tcp", s.Address, 2*time.Second)
		if err != nil {
			t.Errorf("%s: not listening on %s: %v", s.Name, s.Address, err)
		} else {
			c.Close()
		}
	}
	for _, f := range []string{"roster.yaml", "pillar/top.sls", "pillar/incus.sls", "client.crt", "client.key", lab.StateFile} {
		if _, err := os.Stat(filepath.Join(l.Dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if fi, err := os.Stat(l.ClientKey); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("client key mode %v, want 0600", fi.Mode().Perm())
	}

	// Up on a running lab of the same size reports it instead of starting more.
	var log strings.Builder
	prefix := strings.TrimSuffix(l.Members[0].IP(), ".11")
	again, err := lab.UpWith(ctx, l.Dir, lab.Options{Members: 2, Prefix: prefix, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if again.Members[0].PID != l.Members[0].PID || !strings.Contains(log.String(), "already running") {
		t.Errorf("second Up started a new lab: pids %d/%d, log %q", again.Members[0].PID, l.Members[0].PID, log.String())
	}
	// A different size on a running lab is refused.
	if _, err := lab.UpWith(ctx, l.Dir, lab.Options{Members: 3, Prefix: prefix}); err == nil || !strings.Contains(err.Error(), "is running there") {
		t.Errorf("resize err = %v", err)
	}

	loaded, err := lab.Load(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Members) != 2 || loaded.Members[1].Socket != l.Members[1].Socket {
		t.Fatalf("loaded %+v", loaded)
	}

	if err := loaded.Down(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, l)
}

// TestLabRecoversFromCrash: a lab whose state file is lost (as after a crash
// mid-Up) is cleaned up by the next Up in the same dir.
func TestLabRecoversFromCrash(t *testing.T) {
	l := labtest.Start(t, 1)
	old := l.Members[0].PID
	if err := os.Remove(filepath.Join(l.Dir, lab.StateFile)); err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSuffix(l.Members[0].IP(), ".11")
	l2, err := lab.UpWith(context.Background(), l.Dir, lab.Options{Members: 1, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if l2.Members[0].PID == old {
		t.Fatal("old daemon reused")
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(old)); err == nil {
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(old) + "/stat"); !strings.Contains(string(b), ") Z") {
			t.Errorf("stray daemon %d still running", old)
		}
	}
	// labtest's cleanup stops l2 through l (same dir, same member names).
	l.Members = l2.Members
}

func assertGone(t *testing.T, l *lab.Lab) {
	t.Helper()
	if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
		t.Errorf("lab dir still exists: %v", err)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), l.Dir+"/") {
			t.Errorf("mount left behind: %s", sc.Text())
		}
	}
	for _, m := range l.Members {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(m.PID) + "/stat"); err == nil && !strings.Contains(string(b), ") Z") {
			t.Errorf("%s: daemon %d still running", m.Name, m.PID)
		}
	}
}

// TestLabCluster forms a 3-member cluster and checks every member reports
// it; Down of a clustered lab must be as clean as of a standalone one.
func TestLabCluster(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx := context.Background()
	start := time.Now()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster of 3 formed in %s", time.Since(start).Round(time.Millisecond))
	if l.ClusterCert == "" {
		t.Fatal("ClusterCert not set")
	}
	if _, err := os.Stat(l.ClusterCert); err != nil {
		t.Fatal(err)
	}
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Clustered || s.ServerName != s.Name {
			t.Errorf("%s: clustered=%v server_name=%q", s.Name, s.Clustered, s.ServerName)
		}
	}
	start = time.Now()
	if err := l.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("clustered lab down in %s", time.Since(start).Round(time.Millisecond))
	assertGone(t, l)
}

// TestLabRestartAndReset: restart brings a clustered member back into its
// cluster under a new process; reset leaves a fresh, unclustered server at
// the same address that still trusts the lab client certificate.
func TestLabRestartAndReset(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx := context.Background()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := l.Member("node2")
	took, err := l.Restart(ctx, "node2")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node2 restarted in %s", took.Round(time.Millisecond))
	after, _ := l.Member("node2")
	if after.PID == before.PID {
		t.Fatalf("node2 still has pid %d after a restart", after.PID)
	}
	if err := l.Reset(ctx, "node3"); err != nil {
		t.Fatal(err)
	}
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"node1": true, "node2": true, "node3": false}
	for _, s := range st {
		if !s.Ready || s.Clustered != want[s.Name] {
			t.Errorf("%s: ready=%v clustered=%v, want clustered=%v (%s)", s.Name, s.Ready, s.Clustered, want[s.Name], s.Error)
		}
	}
	// The fresh node3 trusts the lab client over the network.
	m3, _ := l.Member("node3")
	crt, err1 := os.ReadFile(l.ClientCert)
	key, err2 := os.ReadFile(l.ClientKey)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	c, err := incus.ConnectIncus(m3.URL(), &incus.ConnectionArgs{
		TLSClientCert: string(crt), TLSClientKey: string(key), InsecureSkipVerify: true, SkipGetEvents: true,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	srv, _, err := c.GetServer()
	if err != nil || srv.Auth != "trusted" {
		t.Fatalf("reset node3 does not trust the lab client over TLS: %v", err)
	}
	if _, err := l.Restart(ctx, "node9"); err == nil || !strings.Contains(err.Error(), "node1") {
		t.Fatalf("restart of an unknown member: %v", err)
	}
}

// TestLabNetnsCluster forms a 3-member cluster with each member in its own
// network namespace: members reach each other only through the lab bridge
// (their addresses are on no host interface), the roster's sockets work
// across namespaces, a restarted member rejoins, and Down removes the namespaces, veths and bridge.
func TestLabNetnsCluster(t *testing.T) {
	l := labtest.StartNetns(t, 3)
	ctx := context.Background()
	if l.Netns == "" {
		t.Fatal("lab not in netns mode")
	}
	hostAddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range l.Members {
		if m.Netns == "" {
			t.Fatalf("%s: no namespace", m.Name)
		}
		if _, err := os.Stat("/run/netns/" + m.Netns); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, a := range hostAddrs {
			if strings.HasPrefix(a.String(), m.IP()+"/") {
				t.Errorf("%s's address %s is on a host interface", m.Name, m.IP())
			}
		}
		// The daemon's network namespace is the member's, not the host's.
		self, _ := os.Readlink("/proc/self/ns/net")
		got, err := os.Readlink("/proc/" + strconv.Itoa(m.PID) + "/ns/net")
		if err != nil || got == self {
			t.Errorf("%s: incusd in namespace %q (host %q): %v", m.Name, got, self, err)
		}
	}
	// Nothing on the host side answers a member address, and nothing
	// leaves for it through the host's interfaces: the lab's route for
	// its subnet is unreachable.
	if c, err := net.DialTimeout("tcp", l.Members[0].Address, time.Second); !errors.Is(err, syscall.EHOSTUNREACH) {
		if c != nil {
			c.Close()
		}
		t.Errorf("a connection from the host to %s: %v, want no route to host", l.Members[0].Address, err)
	}
	start := time.Now()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("netns cluster of 3 formed in %s", time.Since(start).Round(time.Millisecond))
	st, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Clustered || s.ServerName != s.Name {
			t.Errorf("%s: clustered=%v server_name=%q", s.Name, s.Clustered, s.ServerName)
		}
	}
	// Restart waits for the address inside the member's namespace.
	took, err := l.Restart(ctx, "node2")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node2 restarted in %s", took.Round(time.Millisecond))
	c, err := incus.ConnectIncusUnix(l.Members[2].Socket, &incus.ConnectionArgs{HTTPClient: &http.Client{Timeout: 30 * time.Second}, SkipGetEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.GetClusterMembers()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Status != "Online" {
			t.Errorf("%s: %s (%s)", m.ServerName, m.Status, m.Message)
		}
	}
	start = time.Now()
	if err := l.Down(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("netns lab down in %s", time.Since(start).Round(time.Millisecond))
	assertGone(t, l)
	if lab.NetnsLeft(l.Netns) {
		t.Errorf("namespaces or interfaces of tag %s left after Down", l.Netns)
	}
	if out, _ := exec.Command("ip", "-4", "route", "show", "exact", l.Members[0].IP()+"/24").Output(); len(out) > 0 {
		t.Errorf("route left after Down: %s", out)
	}
}

// TestLabNetnsRecoversFromCrash: a netns lab whose daemon died (SIGKILL,
// no Down) leaves its namespaces and bridge; Up in the same directory
// removes them and starts afresh instead of finding the tag taken.
func TestLabNetnsRecoversFromCrash(t *testing.T) {
	l := labtest.StartNetns(t, 1)
	if err := syscall.Kill(l.Members[0].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && l.Members[0].PID > 0; i++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(l.Members[0].PID) + "/stat")
		if err != nil || strings.Contains(string(b), ") Z") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !lab.NetnsLeft(l.Netns) {
		t.Fatal("no namespace left to recover from")
	}
	prefix := strings.TrimSuffix(l.Members[0].IP(), ".11")
	l2, err := lab.UpWith(context.Background(), l.Dir, lab.Options{Members: 1, Netns: true, Prefix: prefix, Tag: l.Netns})
	if err != nil {
		t.Fatal(err)
	}
	l.Members = l2.Members
	st, err := l2.Status(context.Background())
	if err != nil || !st[0].Ready {
		t.Fatalf("status after recovery: %v %+v", err, st)
	}
}

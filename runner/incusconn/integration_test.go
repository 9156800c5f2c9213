package incusconn_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"
	localtls "github.com/lxc/incus/v6/shared/tls"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/roster"
)

func entries(m map[string]*roster.Entry) *roster.Roster {
	for n, e := range m {
		e.Name = n
	}
	return &roster.Roster{File: "/test/roster.yaml", Entries: m}
}

func opts(c *incusconn.Counter) incusconn.Options {
	// An empty config dir: no CLI defaults leak in from the machine.
	return incusconn.Options{ConnectTimeout: 2 * time.Second, RequestTimeout: 10 * time.Second, Counter: c, ConfigDir: os.TempDir() + "/statectl-no-incus-conf"}
}

// TestSocketAndHTTPS connects to real daemons by the lab roster (socket) and
// by https with the lab's client certificate, counts requests, reads grains.
func TestSocketAndHTTPS(t *testing.T) {
	l := labtest.Start(t, 2)
	ctx := context.Background()
	r, err := roster.Load(l.RosterPath())
	if err != nil {
		t.Fatal(err)
	}
	var c incusconn.Counter
	conn, err := incusconn.Connect(ctx, r, "node1", opts(&c))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.Endpoint != "unix://"+l.Members[0].Socket {
		t.Errorf("endpoint = %s", conn.Endpoint)
	}
	if c.Reads() != 1 || c.Writes() != 0 {
		t.Errorf("after connect: %s, want GET=1", c.String())
	}

	g, err := incusconn.ServerGrains(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if g["clustered"] != false || g["version"] == "" || g["https_address"] != l.Members[0].Address || g["auth"] != "trusted" {
		t.Errorf("grains = %v", g)
	}
	if c.Reads() != 1 {
		t.Errorf("after grains: %s, want GET=1 (grains come from the connect's GET /1.0)", c.String())
	}

	// One write through the socket is counted as one PUT.
	srv, etag, err := conn.Server.GetServer()
	if err != nil {
		t.Fatal(err)
	}
	put := srv.Writable()
	put.Config["user.statectl.test"] = "1"
	if err := conn.Server.UpdateServer(put, etag); err != nil {
		t.Fatal(err)
	}
	if c.Reads() != 2 || c.Writes() != 1 || c.ByMethod()["PUT"] != 1 {
		t.Errorf("after read+write: %s, want GET=2 PUT=1", c.String())
	}

	// https with the certificate the lab trusts, pinned to node2's own
	// certificate; a bare host:port in addresses gets https and 8443.
	m := l.Members[1]
	r2 := entries(map[string]*roster.Entry{"n2": {URL: m.URL(), ClientCert: l.ClientCert, ClientKey: l.ClientKey, ServerCert: m.ServerCert}})
	hc, err := incusconn.Connect(ctx, r2, "n2", opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	if hc.Endpoint != m.URL() || hc.Info.Auth != "trusted" {
		t.Errorf("https: endpoint %s auth %s", hc.Endpoint, hc.Info.Auth)
	}
	if _, err := hc.Server.GetClusterMembers(); err == nil {
		t.Error("GetClusterMembers on an unclustered daemon succeeded")
	}

	// A client certificate the lab never trusted is refused with a hint.
	crt, key := newClientCert(t)
	r3 := entries(map[string]*roster.Entry{"n2": {URL: m.Address, ClientCert: crt, ClientKey: key, ServerCert: m.ServerCert}})
	_, err = incusconn.Connect(ctx, r3, "n2", opts(nil))
	if err == nil || !strings.Contains(err.Error(), "does not trust client certificate "+crt) || !strings.Contains(err.Error(), m.URL()) {
		t.Errorf("untrusted: err = %v", err)
	}

	// Operations wait on the event websocket, which the library opens
	// through the wrapped transport: bootstrap each daemon (one over the
	// socket, one over https) and wait.
	for _, cc := range []*incusconn.Conn{conn, hc} {
		name := cc.Info.Environment.ServerName
		op, err := cc.Server.UpdateCluster(api.ClusterPut{Cluster: api.Cluster{ServerName: name, Enabled: true}}, "")
		if err != nil {
			t.Fatalf("%s: %v", cc.Endpoint, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = op.WaitContext(wctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: wait: %v", cc.Endpoint, err)
		}
		srv := cc.Server
		if cc == hc {
			// Bootstrap swaps the daemon's certificate for a new cluster
			// certificate: the old pin must now fail, the new one work.
			if _, _, err := srv.GetServer(); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("old pin after bootstrap: err = %v", err)
			}
			r4 := entries(map[string]*roster.Entry{"n2": {URL: m.URL(), ClientCert: l.ClientCert, ClientKey: l.ClientKey, ServerCert: filepath.Join(m.Dir, "cluster.crt")}})
			c4, err := incusconn.Connect(ctx, r4, "n2", opts(nil))
			if err != nil {
				t.Fatal(err)
			}
			defer c4.Close()
			srv = c4.Server
		}
		members, err := srv.GetClusterMembers()
		if err != nil || len(members) != 1 || members[0].ServerName != name {
			t.Fatalf("%s: members %v, %v", cc.Endpoint, members, err)
		}
	}
	if c.ByMethod()["PUT"] != 2 {
		t.Errorf("after bootstrap: %s, want PUT=2 (UpdateServer and the socket bootstrap)", c.String())
	}
}

// TestFailover: member node1 is SIGSTOPped (accepts TCP, never answers).
// An entry listing node1 then node2 connects to node2 within the connect
// timeout, and a request on an existing connection to node1 is cut at the
// request timeout instead of hanging.
func TestFailover(t *testing.T) {
	l := labtest.Start(t, 3)
	ctx := context.Background()
	if err := l.Cluster(ctx); err != nil {
		t.Fatal(err)
	}
	n1, n2, n3 := l.Members[0], l.Members[1], l.Members[2]
	r := entries(map[string]*roster.Entry{"cluster": {
		URL:        n1.URL(),
		Addresses:  []string{n2.URL(), n3.URL()},
		ClientCert: l.ClientCert, ClientKey: l.ClientKey, ServerCert: l.ClusterCert,
	}})
	o := opts(nil)
	o.ConnectTimeout = time.Second
	o.RequestTimeout = time.Second
	before, err := incusconn.Connect(ctx, r, "cluster", o)
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if before.Endpoint != n1.URL() {
		t.Fatalf("endpoint = %s, want %s", before.Endpoint, n1.URL())
	}

	stop(t, n1)

	start := time.Now()
	conn, err := incusconn.Connect(ctx, r, "cluster", o)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	took := time.Since(start)
	t.Logf("failover to %s in %s", conn.Endpoint, took.Round(time.Millisecond))
	if conn.Endpoint != n2.URL() {
		t.Errorf("endpoint = %s, want %s", conn.Endpoint, n2.URL())
	}
	if took > 3*time.Second {
		t.Errorf("failover took %s, want about the 1s connect timeout", took)
	}

	start = time.Now()
	_, _, err = before.Server.GetServer()
	if err == nil {
		t.Error("request to a stopped daemon succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("request to a stopped daemon took %s, want about the 1s request timeout", d)
	}
}

// TestRemote: a target that is no roster entry but an incus CLI remote,
// from a temporary HOME's ~/.config/incus (client.crt/key, servercerts).
func TestRemote(t *testing.T) {
	l := labtest.Start(t, 1)
	m := l.Members[0]
	home := t.TempDir()
	conf := filepath.Join(home, ".config", "incus")
	copyFile(t, l.ClientCert, filepath.Join(conf, "client.crt"))
	copyFile(t, l.ClientKey, filepath.Join(conf, "client.key"))
	copyFile(t, m.ServerCert, filepath.Join(conf, "servercerts", "labremote.crt"))
	cfg := "default-remote: local\nremotes:\n" +
		"  labremote:\n    addr: " + m.URL() + "\n    protocol: incus\n    auth_type: tls\n" +
		"  labsock:\n    addr: unix://" + m.Socket + "\n    protocol: incus\n"
	if err := os.WriteFile(filepath.Join(conf, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("INCUS_CONF", "")

	// The roster exists but does not list the target.
	r, err := roster.Load(l.RosterPath())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"labremote": m.URL(), "labsock": "unix://" + m.Socket} {
		conn, err := incusconn.Connect(context.Background(), r, name, incusconn.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		conn.Close()
		if conn.Endpoint != want || conn.Target != name || conn.Info.Auth != "trusted" {
			t.Errorf("%s: endpoint %s target %s auth %s", name, conn.Endpoint, conn.Target, conn.Info.Auth)
		}
	}
	// Roster entries without client_cert default to the CLI's certificate.
	r2 := entries(map[string]*roster.Entry{"x": {URL: m.URL(), ServerCert: m.ServerCert}})
	conn, err := incusconn.Connect(context.Background(), r2, "x", incusconn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// stop SIGSTOPs a member and resumes it in cleanup (before labtest's Down,
// cleanups run last-in first-out).
func stop(t *testing.T, m lab.Member) {
	t.Helper()
	if err := syscall.Kill(m.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(m.PID, syscall.SIGCONT) })
	labtest.WaitStopped(t, m.PID)
}

func newClientCert(t *testing.T) (string, string) {
	t.Helper()
	cert, key, err := localtls.GenerateMemCert(true, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crt, k := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
	if err := os.WriteFile(crt, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return crt, k
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

package incusconn

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	localtls "github.com/lxc/incus/v6/shared/tls"

	"github.com/statectl/statectl/runner/roster"
)

func TestParseEndpoint(t *testing.T) {
	t.Setenv("INCUS_SOCKET", "/run/test.socket")
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "https://10.0.0.1:8443", want: "https://10.0.0.1:8443"},
		{in: "https://10.0.0.1", want: "https://10.0.0.1:8443"},
		{in: "10.0.0.1", want: "https://10.0.0.1:8443"},
		{in: "10.0.0.1:9443", want: "https://10.0.0.1:9443"},
		{in: "[fd00::1]:8443", want: "https://[fd00::1]:8443"},
		{in: "https://[fd00::1]", want: "https://[fd00::1]:8443"},
		{in: "https://node.example/", want: "https://node.example:8443"},
		{in: "unix:///var/lib/incus/unix.socket", want: "unix:///var/lib/incus/unix.socket"},
		{in: "unix://", want: "unix:///run/test.socket"},
		{in: "http://10.0.0.1", wantErr: `scheme "http" is not supported`},
		{in: "https://user:hunter2@10.0.0.1", want: "https://user:xxxxx@10.0.0.1:8443"},
		{in: "https://", wantErr: "no host"},
	}
	for _, tt := range tests {
		ep, err := parseEndpoint(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := ep.display(); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.in, got, tt.want)
		}
	}
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "incusconf")
	writeFile(t, filepath.Join(conf, "client.crt"), "c")
	writeFile(t, filepath.Join(conf, "client.key"), "k")
	writeFile(t, filepath.Join(conf, "servercerts", "prod.crt"), "s")
	writeFile(t, filepath.Join(conf, "config.yml"), `default-remote: local
remotes:
  images:
    addr: https://images.linuxcontainers.org
    protocol: simplestreams
    public: true
  local:
    addr: unix://
    protocol: incus
  prod:
    addr: https://10.1.0.5:8443
    protocol: incus
    project: web
  sso:
    addr: https://10.1.0.6:8443
    auth_type: oidc
`)
	rosterFile := filepath.Join(dir, "etc", "roster.yaml")
	r, err := roster.Parse(rosterFile, []byte(`
node1:
  socket: run/node1.socket
node2:
  url: 10.0.0.2
  addresses: [10.0.0.3, "https://10.0.0.4:9443"]
  client_cert: certs/me.crt
  client_key: /abs/me.key
  server_cert: certs/cluster.crt
node3:
  grains: {a: 1}
node4:
  url: https://10.0.0.9
  client_cert: only.crt
node5:
  url: 10.0.0.5
  auth_type: oidc
  oidc_tokens: tokens/node5.json
node6:
  url: 10.0.0.6
  auth_type: saml
`))
	if err != nil {
		t.Fatal(err)
	}
	etc := filepath.Join(dir, "etc")
	tests := []struct {
		name      string
		endpoints []string
		creds     creds
		project   string
		wantErr   string
	}{
		{name: "node1", endpoints: []string{"unix://" + filepath.Join(etc, "run/node1.socket")},
			creds: creds{clientCert: filepath.Join(conf, "client.crt"), clientKey: filepath.Join(conf, "client.key"), defaulted: true}},
		{name: "node2", endpoints: []string{"https://10.0.0.2:8443", "https://10.0.0.3:8443", "https://10.0.0.4:9443"},
			creds: creds{clientCert: filepath.Join(etc, "certs/me.crt"), clientKey: "/abs/me.key", serverCert: filepath.Join(etc, "certs/cluster.crt")}},
		{name: "node3", wantErr: "neither socket nor url"},
		{name: "node4", wantErr: "client_cert and client_key must be given together"},
		{name: "prod", endpoints: []string{"https://10.1.0.5:8443"}, project: "web",
			creds: creds{clientCert: filepath.Join(conf, "client.crt"), clientKey: filepath.Join(conf, "client.key"), serverCert: filepath.Join(conf, "servercerts/prod.crt"), defaulted: true}},
		{name: "local", endpoints: []string{"unix://" + DefaultSocket()},
			creds: creds{clientCert: filepath.Join(conf, "client.crt"), clientKey: filepath.Join(conf, "client.key"), defaulted: true}},
		{name: "images", wantErr: `protocol "simplestreams" (an image server)`},
		{name: "sso", endpoints: []string{"https://10.1.0.6:8443"},
			creds: creds{oidc: true, oidcTokens: filepath.Join(conf, "oidctokens/sso.json")}},
		{name: "node5", endpoints: []string{"https://10.0.0.5:8443"},
			creds: creds{oidc: true, oidcTokens: filepath.Join(etc, "tokens/node5.json")}},
		{name: "node6", wantErr: `auth_type "saml": want tls or oidc`},
		{name: "ghost", wantErr: "not in roster " + rosterFile + " and not an incus remote in " + filepath.Join(conf, "config.yml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolve(r, tt.name, conf)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var eps []string
			for _, e := range got.endpoints {
				eps = append(eps, e.display())
			}
			if strings.Join(eps, " ") != strings.Join(tt.endpoints, " ") {
				t.Errorf("endpoints = %v, want %v", eps, tt.endpoints)
			}
			if got.creds != tt.creds {
				t.Errorf("creds = %+v, want %+v", got.creds, tt.creds)
			}
			if got.project != tt.project {
				t.Errorf("project = %q, want %q", got.project, tt.project)
			}
		})
	}
	names, err := Remotes(conf)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "local,prod,sso" {
		t.Errorf("Remotes = %v", names)
	}
}

// fakeIncus answers GET /1.0 like incusd with the given auth.
func fakeIncus(t *testing.T, auth string) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/1.0" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"sync","status":"Success","status_code":200,"metadata":{"auth":"` + auth + `","api_version":"1.0","environment":{"server_name":"fake","server_version":"6.0.4","addresses":["127.0.0.1:1"]},"config":{"core.https_address":"127.0.0.1:1","loki.auth.password":"hunter2"}}}`))
	}))
	t.Cleanup(srv.Close)
	pin := writeFile(t, filepath.Join(t.TempDir(), "server.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	return srv, pin
}

func clientCert(t *testing.T) (string, string) {
	t.Helper()
	cert, key, err := localtls.GenerateMemCert(true, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return writeFile(t, filepath.Join(dir, "client.crt"), string(cert)), writeFile(t, filepath.Join(dir, "client.key"), string(key))
}

func testRoster(entries map[string]*roster.Entry) *roster.Roster {
	for n, e := range entries {
		e.Name = n
	}
	return &roster.Roster{File: "/test/roster.yaml", Entries: entries}
}

// Failover: the first address accepts TCP and never answers; Connect must
// move on after the connect timeout and name the address that answered.
func TestConnectFailover(t *testing.T) {
	stuck := stuckListener(t)
	srv, pin := fakeIncus(t, "trusted")
	crt, key := clientCert(t)
	r := testRoster(map[string]*roster.Entry{"n": {URL: stuck.Addr().String(), Addresses: []string{srv.URL}, ClientCert: crt, ClientKey: key, ServerCert: pin}})
	var c Counter
	start := time.Now()
	conn, err := Connect(context.Background(), r, "n", Options{ConnectTimeout: 300 * time.Millisecond, Counter: &c, ConfigDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("failover took %s, want about 300ms", d)
	}
	if conn.Endpoint != srv.URL || conn.Target != "n" || conn.Info.Environment.ServerName != "fake" {
		t.Errorf("conn = %s %s %+v", conn.Target, conn.Endpoint, conn.Info.Environment)
	}
	if c.Reads() != 2 || c.Writes() != 0 {
		t.Errorf("counter %s, want GET=2 (stuck + answered)", c.String())
	}
	g, err := ServerGrains(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	if g["server_name"] != "fake" || g["version"] != "6.0.4" || g["clustered"] != false || g["https_address"] != "127.0.0.1:1" || g["endpoint"] != srv.URL {
		t.Errorf("grains = %v", g)
	}
	for k, v := range g {
		if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
			t.Errorf("grain %s leaks a secret config value", k)
		}
	}
}

func TestConnectErrors(t *testing.T) {
	stuck := stuckListener(t)
	untrusted, pin := fakeIncus(t, "untrusted")
	otherCert, _, err := localtls.GenerateMemCert(false, true)
	if err != nil {
		t.Fatal(err)
	}
	otherPin := writeFile(t, filepath.Join(t.TempDir(), "other.crt"), string(otherCert))
	crt, key := clientCert(t)
	badKey := writeFile(t, filepath.Join(t.TempDir(), "bad.key"), "-----BEGIN EC PRIVATE KEY-----\nU0VDUkVUU0VDUkVU\n-----END EC PRIVATE KEY-----\n")
	stuckURL := "https://" + stuck.Addr().String()
	refused := closedPort(t)
	deadSocket := deadUnixSocket(t)
	tests := []struct {
		name    string
		entry   *roster.Entry
		want    []string
		wantNot []string
	}{
		{name: "untrusted", entry: &roster.Entry{URL: untrusted.URL, ClientCert: crt, ClientKey: key, ServerCert: pin},
			want: []string{"failed to connect to n at " + untrusted.URL, "does not trust client certificate " + crt, "incus config trust add-certificate"}},
		{name: "wrong pin", entry: &roster.Entry{URL: untrusted.URL, ClientCert: crt, ClientKey: key, ServerCert: otherPin},
			want: []string{"failed to connect to n at " + untrusted.URL, "is not the pinned server_cert " + otherPin}, wantNot: []string{"does not trust"}},
		{name: "bad key", entry: &roster.Entry{URL: untrusted.URL, ClientCert: crt, ClientKey: badKey, ServerCert: pin},
			want: []string{"failed to connect to n at " + untrusted.URL}, wantNot: []string{"U0VDUkVU", "SECRET"}},
		{name: "missing cert file", entry: &roster.Entry{URL: untrusted.URL, ClientCert: "/nonexistent/c.crt", ClientKey: key},
			want: []string{"failed to read client certificate: open /nonexistent/c.crt"}},
		{name: "all stuck", entry: &roster.Entry{URL: stuckURL, Addresses: []string{stuckURL}},
			want: []string{"failed to connect to n (tried 2 endpoints)", stuckURL + ": no answer within the connect timeout (200ms)", "; " + stuckURL}},
		{name: "no socket", entry: &roster.Entry{Socket: "/nonexistent/unix.socket"},
			want: []string{"failed to connect to n at unix:///nonexistent/unix.socket"}},
		{name: "refused", entry: &roster.Entry{Addresses: []string{refused}},
			want: []string{"failed to connect to n at https://" + refused, "connection refused by " + refused, "core.https_address"}},
		{name: "socket without daemon", entry: &roster.Entry{Socket: deadSocket},
			want: []string{"nothing listens on the unix socket " + deadSocket, "is incusd running?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRoster(map[string]*roster.Entry{"n": tt.entry})
			start := time.Now()
			_, err := Connect(context.Background(), r, "n", Options{ConnectTimeout: 200 * time.Millisecond, ConfigDir: t.TempDir()})
			if err == nil {
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range append(tt.wantNot, "PRIVATE KEY") {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
}

func TestConnectAnyOrder(t *testing.T) {
	stuck := stuckListener(t)
	srv, pin := fakeIncus(t, "trusted")
	crt, key := clientCert(t)
	r := testRoster(map[string]*roster.Entry{
		"a": {URL: stuck.Addr().String()},
		"b": {URL: srv.URL, ClientCert: crt, ClientKey: key, ServerCert: pin},
		"c": {URL: srv.URL, ClientCert: crt, ClientKey: key, ServerCert: pin},
	})
	opts := Options{ConnectTimeout: 200 * time.Millisecond, ConfigDir: t.TempDir()}
	conn, err := ConnectAny(context.Background(), r, []string{"a", "b", "c"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if conn.Target != "b" {
		t.Errorf("target = %s, want b (first that answers)", conn.Target)
	}
	_, err = ConnectAny(context.Background(), r, []string{"a", "ghost"}, opts)
	if err == nil || !strings.Contains(err.Error(), "failed to connect to any of a, ghost") || !strings.Contains(err.Error(), "ghost: not in roster") {
		t.Errorf("err = %v", err)
	}
	if _, err := ConnectAny(context.Background(), r, nil, opts); err == nil {
		t.Error("no error for no targets")
	}
}

// A cancelled context stops the endpoint loop.
func TestConnectCancelled(t *testing.T) {
	stuck := stuckListener(t)
	r := testRoster(map[string]*roster.Entry{"n": {URL: stuck.Addr().String(), Addresses: []string{stuck.Addr().String(), stuck.Addr().String()}}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Connect(ctx, r, "n", Options{ConnectTimeout: 5 * time.Second, ConfigDir: t.TempDir()})
	if err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after the context ended", d)
	}
}

// closedPort returns 127.0.0.1:PORT where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// deadUnixSocket returns a socket file nobody listens on (a stopped incusd).
func deadUnixSocket(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unix.socket")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	return path
}

// TestSocketPermissionDenied connects, as another uid, to a socket only root
// may use (as incusd's is only for root and incus-admin): the error says
// how to get access. The test binary re-runs itself as nobody.
func TestSocketPermissionDenied(t *testing.T) {
	if sock := os.Getenv("STATECTL_TEST_SOCKET"); sock != "" {
		r := testRoster(map[string]*roster.Entry{"n": {Socket: sock}})
		_, err := Connect(context.Background(), r, "n", Options{ConnectTimeout: time.Second, ConfigDir: filepath.Join(filepath.Dir(sock), "noconf")})
		fmt.Printf("ERR: %v\n", err)
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	dir, err := os.MkdirTemp("", "statectl-sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "unix.socket")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chmod(sock, 0o600); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "test.bin")
	bin, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestSocketPermissionDenied$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STATECTL_TEST_SOCKET="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{"ERR: failed to connect to n at unix://" + sock, "permission denied on the unix socket " + sock, "run as root or as a member of the incus-admin group"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

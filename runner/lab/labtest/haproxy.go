package labtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// HAProxyOptions shape the balancer StartHAProxy runs.
type HAProxyOptions struct {
	// ProxyProtocol sends the PROXY protocol v1 header to the backends
	// (and to their health checks); the members must trust it
	// (core.https_trusted_proxy). Incus 6.0.4 fails v2 health checks.
	ProxyProtocol bool
}

// StartHAProxy runs haproxy in TCP mode, round-robin per connection, in
// front of backends (host:port), with an HTTPS health check of GET /1.0
// every 200ms. It listens on a free loopback port and returns host:port;
// haproxy is killed when the test ends. It fails (never skips under
// CI=true) when haproxy is not installed.
func StartHAProxy(t testing.TB, backends []string, o HAProxyOptions) string {
	t.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		// Debian installs it in /usr/sbin, often not in a user's PATH.
		bin, err = exec.LookPath("/usr/sbin/haproxy")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("haproxy test needs haproxy (scripts/install-deps.sh): %v", err)
		}
		t.Skipf("skipping haproxy test: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to find a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()

	proxy := ""
	if o.ProxyProtocol {
		proxy = " send-proxy check-send-proxy"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `global
  maxconn 256
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
frontend incus
  bind %s
  default_backend members
backend members
  balance roundrobin
  option httpchk GET /1.0
`, addr)
	for i, be := range backends {
		fmt.Fprintf(&b, "  server m%d %s check check-ssl verify none inter 200ms fall 2 rise 2%s\n", i, be, proxy)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("failed to write haproxy config: %v", err)
	}
	logf, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("failed to start haproxy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logf.Name())
			t.Logf("--- haproxy ---\n%s", out)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

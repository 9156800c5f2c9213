package incusconn

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Counter counts the HTTP requests sent through connections that share it.
// GET, HEAD and OPTIONS are reads, every other method a write; a no-op apply
// must show Writes() == 0. Requests are counted when sent, failed or not.
// The event websocket (an upgrade, not a REST request) is not counted.
// The zero value is ready; a nil *Counter counts nothing.
type Counter struct {
	reads, writes atomic.Int64
	mu            sync.Mutex
	byMethod      map[string]int64
}

func (c *Counter) add(method string) {
	if c == nil {
		return
	}
	if method == "" {
		method = http.MethodGet
	}
	if isRead(method) {
		c.reads.Add(1)
	} else {
		c.writes.Add(1)
	}
	c.mu.Lock()
	if c.byMethod == nil {
		c.byMethod = map[string]int64{}
	}
	c.byMethod[method]++
	c.mu.Unlock()
}

func isRead(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// Reads is the number of GET/HEAD/OPTIONS requests.
func (c *Counter) Reads() int64 {
	if c == nil {
		return 0
	}
	return c.reads.Load()
}

// Writes is the number of requests with any other method.
func (c *Counter) Writes() int64 {
	if c == nil {
		return 0
	}
	return c.writes.Load()
}

// ByMethod returns a copy of the counts per HTTP method.
func (c *Counter) ByMethod() map[string]int64 {
	out := map[string]int64{}
	if c == nil {
		return out
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.byMethod {
		out[k] = v
	}
	return out
}

// String renders the counts deterministically, e.g. "GET=3 PUT=1".
func (c *Counter) String() string {
	m := c.ByMethod()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, " ")
}

// Reset sets all counts to zero.
func (c *Counter) Reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads.Store(0)
	c.writes.Store(0)
	c.byMethod = nil
}

// transport wraps the *http.Transport the client library builds: it counts
// every request and bounds it by a timeout, because the library's own
// response-header wait is an hour. It implements incus.HTTPTransporter so
// the library still finds the inner transport for websockets.
type transport struct {
	inner   *http.Transport
	counter *Counter
	// timeout is per request, in nanoseconds: the connect timeout while
	// probing, then the request timeout.
	timeout atomic.Int64
}

func newTransport(inner *http.Transport, c *Counter, timeout time.Duration) *transport {
	t := &transport{inner: inner, counter: c}
	t.timeout.Store(int64(timeout))
	return t
}

func (t *transport) Transport() *http.Transport { return t.inner }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.counter.add(req.Method)
	timeout, ok := requestTimeout(req, time.Duration(t.timeout.Load()))
	if !ok {
		return t.inner.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := t.inner.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	// The deadline must cover reading the body too; release it on Close.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// requestTimeout: every request gets d, except an operation long-poll
// (/operations/ID/wait?timeout=N), which gets N seconds more and none at
// all when N is -1 (the caller's context bounds it then).
func requestTimeout(req *http.Request, d time.Duration) (time.Duration, bool) {
	if d <= 0 {
		return 0, false
	}
	if req.URL != nil && strings.HasSuffix(req.URL.Path, "/wait") && strings.Contains(req.URL.Path, "/operations/") {
		n, err := strconv.Atoi(req.URL.Query().Get("timeout"))
		if err != nil || n < 0 {
			return 0, false
		}
		return d + time.Duration(n)*time.Second, true
	}
	return d, true
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// tlsDialer replaces the library's TLS dial, which ignores its context,
// waits 10 s for TCP and has no handshake deadline: a SIGSTOPped daemon
// accepts TCP (the kernel does) and then never answers the handshake. Here
// TCP connect and handshake together get at most timeout. Verification is
// cfg's: with a roster server_cert, an exact match of the pinned leaf
// (pinOnly); without, the system CAs and the host name.
func tlsDialer(cfg *tls.Config, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		d := net.Dialer{KeepAlive: 3 * time.Second}
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			c.ServerName = host
		}
		conn := tls.Client(raw, c)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// unixDialer dials path whatever address the transport asks for.
func unixDialer(path string, timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		return d.DialContext(ctx, "unix", path)
	}
}

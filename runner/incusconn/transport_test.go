package incusconn

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCounter(t *testing.T) {
	var c Counter
	for _, m := range []string{"GET", "GET", "", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"} {
		c.add(m)
	}
	if c.Reads() != 5 || c.Writes() != 4 {
		t.Fatalf("reads=%d writes=%d, want 5 and 4", c.Reads(), c.Writes())
	}
	if got := c.String(); got != "DELETE=1 GET=3 HEAD=1 OPTIONS=1 PATCH=1 POST=1 PUT=1" {
		t.Errorf("String() = %q", got)
	}
	c.Reset()
	if c.Reads() != 0 || c.Writes() != 0 || len(c.ByMethod()) != 0 {
		t.Errorf("after Reset: %s", c.String())
	}
	var nilC *Counter
	nilC.add("PUT")
	if nilC.Reads() != 0 || nilC.Writes() != 0 || nilC.String() != "" {
		t.Error("nil counter counted")
	}
}

func TestCounterConcurrent(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				c.add("GET")
				c.add("PUT")
			}
		}()
	}
	wg.Wait()
	if c.Reads() != 800 || c.Writes() != 800 || c.ByMethod()["PUT"] != 800 {
		t.Fatalf("got %s", c.String())
	}
}

func TestRequestTimeout(t *testing.T) {
	tests := []struct {
		url    string
		d      time.Duration
		want   time.Duration
		wantOK bool
	}{
		{"http://x/1.0", 30 * time.Second, 30 * time.Second, true},
		{"http://x/1.0/operations/abc/wait?timeout=5", 30 * time.Second, 35 * time.Second, true},
		{"http://x/1.0/operations/abc/wait?timeout=-1", 30 * time.Second, 0, false},
		{"http://x/1.0/operations/abc/wait", 30 * time.Second, 0, false},
		{"http://x/1.0/instances/wait", 30 * time.Second, 30 * time.Second, true},
		{"http://x/1.0", 0, 0, false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		got, ok := requestTimeout(&http.Request{URL: u}, tt.d)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: got %s %v, want %s %v", tt.url, got, ok, tt.want, tt.wantOK)
		}
	}
}

// A daemon that stops answering mid-request must not hold the caller
// longer than the request timeout, whether headers or body are pending.
func TestTransportTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	var c Counter
	hc := &http.Client{Transport: newTransport(&http.Transport{}, &c, 200*time.Millisecond)}
	for _, path := range []string{"/headers", "/body"} {
		start := time.Now()
		resp, err := hc.Get(srv.URL + path)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Errorf("%s: no error from a stalled server", path)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %s, want about 200ms", path, d)
		}
	}
	if c.Reads() != 2 {
		t.Errorf("reads = %d, want 2", c.Reads())
	}
}

// A listener that accepts TCP but never speaks TLS is what a SIGSTOPped
// incusd looks like: the dial must give up within the connect timeout.
func TestTLSDialerStuckPeer(t *testing.T) {
	ln := stuckListener(t)
	dial := tlsDialer(&tls.Config{InsecureSkipVerify: true}, 300*time.Millisecond)
	start := time.Now()
	_, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err == nil {
		t.Fatal("handshake with a silent peer succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("dial took %s, want about 300ms", d)
	}
}

func TestTLSDialerVerifies(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	// No pin, no system trust: verification must fail.
	if _, err := tlsDialer(&tls.Config{}, time.Second)(context.Background(), "tcp", addr); err == nil {
		t.Fatal("unverified server accepted")
	}
	// The test server's certificate names example.com (as a pinned
	// incus certificate names its DNS name).
	cfg := &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs, ServerName: "example.com"}
	c, err := tlsDialer(cfg, time.Second)(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

// stuckListener accepts connections and never reads or writes.
func stuckListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln
}

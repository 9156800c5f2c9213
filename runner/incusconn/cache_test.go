package incusconn

import (
	"context"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// countingServer answers GET /1.0 with a fresh value each time and counts
// the reads; every other method is absent (nil embedded interface).
type countingServer struct {
	incus.InstanceServer
	reads int
}

func (s *countingServer) GetServer() (*api.Server, string, error) {
	s.reads++
	srv := &api.Server{ServerUntrusted: api.ServerUntrusted{ServerPut: api.ServerPut{Config: map[string]string{"read": string(rune('0' + s.reads))}}}}
	return srv, "etag" + string(rune('0'+s.reads)), nil
}

// TestCachedServer: the answer read while connecting serves the first
// plan, answers are reused until a write bracket, callers get copies.
func TestCachedServer(t *testing.T) {
	connInfo := &api.Server{ServerUntrusted: api.ServerUntrusted{ServerPut: api.ServerPut{Config: map[string]string{"read": "connect"}}}}
	tests := []struct {
		name      string
		steps     []string // "get", "write", or "begin" and "end" of an Apply
		wantReads int
		wantLast  string // config["read"] of the last get
		wantETag  string
	}{
		{"connect answer serves the first get", []string{"get"}, 0, "connect", "etag-connect"},
		{"and later gets", []string{"get", "get", "get"}, 0, "connect", "etag-connect"},
		{"a write invalidates it", []string{"get", "write", "get", "get"}, 1, "1", "etag1"},
		{"every write does", []string{"write", "get", "write", "get"}, 2, "2", "etag2"},
		{"gets during an apply always read", []string{"begin", "get", "get", "end", "get"}, 3, "3", "etag3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner := &countingServer{}
			p := NewPool(nil, Options{})
			p.connect = func(context.Context, string) (*Conn, error) {
				return &Conn{Server: inner, Info: connInfo, ETag: "etag-connect", InfoAt: time.Now()}, nil
			}
			c, err := p.Get(context.Background(), "node1")
			if err != nil {
				t.Fatal(err)
			}
			s := c.Server
			var last *api.Server
			var etag string
			for _, step := range tc.steps {
				switch step {
				case "write":
					p.BeginWrite()
					p.EndWrite()
					continue
				case "begin":
					p.BeginWrite()
					continue
				case "end":
					p.EndWrite()
					continue
				}
				if last, etag, err = s.GetServer(); err != nil {
					t.Fatal(err)
				}
				last.Config["read"] = "changed by the caller"
			}
			if inner.reads != tc.wantReads {
				t.Errorf("%d reads, want %d", inner.reads, tc.wantReads)
			}
			again, etag2, _ := s.GetServer()
			if again.Config["read"] != tc.wantLast || etag != tc.wantETag || etag2 != tc.wantETag {
				t.Errorf("last answer %q %s (then %s), want %q %s", again.Config["read"], etag, etag2, tc.wantLast, tc.wantETag)
			}
			if connInfo.Config["read"] != "connect" {
				t.Fatalf("a caller changed the connection's Info")
			}
		})
	}
}

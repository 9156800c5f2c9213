package incus

import (
	"context"
	"testing"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
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
// plan, answers are reused until an Apply writes, callers get copies,
// and a connection older than the module is never trusted.
func TestCachedServer(t *testing.T) {
	connInfo := &api.Server{ServerUntrusted: api.ServerUntrusted{ServerPut: api.ServerPut{Config: map[string]string{"read": "connect"}}}}
	tests := []struct {
		name      string
		infoAge   time.Duration // how long before the module the connection read Info
		steps     []string      // "get", "write", or "begin" and "end" of an Apply
		wantReads int
		wantLast  string // config["read"] of the last get
		wantETag  string
	}{
		{"connect answer serves the first get", -time.Second, []string{"get"}, 0, "connect", "etag-connect"},
		{"and later gets", -time.Second, []string{"get", "get", "get"}, 0, "connect", "etag-connect"},
		{"a write invalidates it", -time.Second, []string{"get", "write", "get", "get"}, 1, "1", "etag1"},
		{"every write does", -time.Second, []string{"write", "get", "write", "get"}, 2, "2", "etag2"},
		{"gets during an apply always read", -time.Second, []string{"begin", "get", "get", "end", "get"}, 3, "3", "etag3"},
		{"a connection older than the module is not trusted", time.Second, []string{"get", "get"}, 1, "1", "etag1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner := &countingServer{}
			m := newModule(nil, func(context.Context, string) (*incusconn.Conn, error) {
				// infoAge < 0: read after the module was created.
				return &incusconn.Conn{Server: inner, Info: connInfo, ETag: "etag-connect", InfoAt: time.Now().Add(-tc.infoAge)}, nil
			})
			s, err := m.conn(context.Background(), "node1")
			if err != nil {
				t.Fatal(err)
			}
			var last *api.Server
			var etag string
			for _, step := range tc.steps {
				switch step {
				case "write":
					m.wrote()
					continue
				case "begin":
					m.beginWrite()
					continue
				case "end":
					m.endWrite()
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

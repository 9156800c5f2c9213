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

// resServer answers pool and network GETs with a fresh value each time and
// counts the reads per "target/kind/name".
type resServer struct {
	incus.InstanceServer
	target string
	reads  map[string]int
}

func (s *resServer) UseTarget(name string) incus.InstanceServer {
	return &resServer{target: name, reads: s.reads}
}

func (s *resServer) GetStoragePool(name string) (*api.StoragePool, string, error) {
	key := s.target + "/pool/" + name
	s.reads[key]++
	return &api.StoragePool{Name: name, StoragePoolPut: api.StoragePoolPut{Config: map[string]string{"source": key}}}, "etag-" + key, nil
}

func (s *resServer) GetNetwork(name string) (*api.Network, string, error) {
	key := s.target + "/network/" + name
	s.reads[key]++
	return &api.Network{Name: name, NetworkPut: api.NetworkPut{Config: map[string]string{"parent": key}}}, "etag-" + key, nil
}

// TestCachedResources: pool and network answers are read once per cluster
// (members of one cluster share a certificate) and member, until a write
// bracket; reads inside one go to the daemon; callers get copies.
func TestCachedResources(t *testing.T) {
	clustered := func(fp string) *api.Server {
		return &api.Server{Environment: api.ServerEnvironment{ServerClustered: fp != "", CertificateFingerprint: fp}}
	}
	tests := []struct {
		name  string
		fps   [2]string // certificate fingerprints of node1, node2 ("": standalone)
		steps []string  // "CONN:pool|network|tpool|tnetwork" (tX: ?target=node3), write, begin, end
		want  map[string]int
	}{
		{"one read per cluster", [2]string{"fp", "fp"},
			[]string{"1:pool", "2:pool", "1:pool", "1:network", "2:network"},
			map[string]int{"/pool/p": 1, "/network/p": 1}},
		{"member entries per member, shared by the cluster", [2]string{"fp", "fp"},
			[]string{"1:tpool", "2:tpool", "1:tnetwork", "2:tnetwork", "1:pool"},
			map[string]int{"node3/pool/p": 1, "node3/network/p": 1, "/pool/p": 1}},
		{"two clusters read each", [2]string{"fpA", "fpB"},
			[]string{"1:pool", "2:pool"},
			map[string]int{"/pool/p": 2}},
		{"standalone servers read each", [2]string{"", ""},
			[]string{"1:pool", "2:pool", "1:pool"},
			map[string]int{"/pool/p": 2}},
		{"a write drops every answer", [2]string{"fp", "fp"},
			[]string{"1:pool", "1:tpool", "write", "2:pool", "2:tpool"},
			map[string]int{"/pool/p": 2, "node3/pool/p": 2}},
		{"reads during an apply always read", [2]string{"fp", "fp"},
			[]string{"begin", "1:pool", "1:pool", "end", "1:pool"},
			map[string]int{"/pool/p": 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reads := map[string]int{}
			p := NewPool(nil, Options{})
			p.connect = func(_ context.Context, name string) (*Conn, error) {
				fp := tc.fps[0]
				if name == "node2" {
					fp = tc.fps[1]
				}
				return &Conn{Server: &resServer{reads: reads}, Info: clustered(fp)}, nil
			}
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
				c, err := p.Get(context.Background(), "node"+step[:1])
				if err != nil {
					t.Fatal(err)
				}
				s := c.Server
				what := step[2:]
				if what[0] == 't' {
					s, what = s.UseTarget("node3"), what[1:]
				}
				var cfg map[string]string
				var etag string
				if what == "pool" {
					var v *api.StoragePool
					v, etag, err = s.GetStoragePool("p")
					if err == nil {
						cfg = v.Config
					}
				} else {
					var v *api.Network
					v, etag, err = s.GetNetwork("p")
					if err == nil {
						cfg = v.Config
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range cfg {
					if etag != "etag-"+v {
						t.Fatalf("%s: answer %q with etag %q", step, v, etag)
					}
					cfg[k] = "changed by the caller"
				}
			}
			if len(reads) != len(tc.want) {
				t.Errorf("reads %v, want %v", reads, tc.want)
			}
			for k, n := range tc.want {
				if reads[k] != n {
					t.Errorf("reads %v, want %v", reads, tc.want)
					break
				}
			}
		})
	}
}

package incusconn

import (
	"encoding/json"
	"fmt"
	"sync"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// cachedServer is a pool connection whose GET /1.0 answer is remembered
// while the run writes nothing. It is the run's one read cache: a no-op
// apply reads a target's server for its grains, then plans several states
// against it (cluster_enabled, cluster_member_present, settings_present)
// and reaches it again for the next target, and each would otherwise
// re-read the same answer. Any write bracket (Pool.BeginWrite) bumps the
// pool's write generation, after which the next GetServer reads again. The
// answer read while connecting (Conn.Info) seeds it.
//
// A change made outside statectl between the read and a later plan of the
// same run is seen by the next run, as with any change after a plan; an
// apply uses the ETag of the read, so such a change is refused (HTTP 412),
// never overwritten. GET /1.0 of member-scoped views (UseTarget) is not
// cached; storage pools and networks are (rescache.go), and the member
// list that cluster_member_present plans from (members.go).
type cachedServer struct {
	incus.InstanceServer
	p *Pool
	// scope keys this connection's pool and network answers (scopeOf).
	scope string

	mu   sync.Mutex
	srv  *api.Server // nil: nothing remembered
	etag string
	gen  uint64 // p.writes when srv was read
}

// cache wraps c's server (roster entry name) in the pool's read cache,
// seeded with the answer read while connecting.
func (p *Pool) cache(name string, c *Conn) {
	s := &cachedServer{InstanceServer: c.Server, p: p, scope: scopeOf(name, c)}
	if c.Info != nil {
		s.srv, s.etag, s.gen = c.Info, c.ETag, p.writes.Load()
	}
	c.Server = s
}

// BeginWrite and EndWrite bracket a write (a module's Apply): every answer
// remembered before is dropped, and reads inside the bracket (before a
// write, and to check what it did) go to the daemon.
func (p *Pool) BeginWrite() {
	p.applying.Add(1)
	p.writes.Add(1)
}

// Refresh drops every answer remembered so far, as a write would: a run
// that just took the cluster lock must see what the previous holder wrote.
func (p *Pool) Refresh() { p.writes.Add(1) }

// EndWrite ends a BeginWrite bracket.
func (p *Pool) EndWrite() {
	p.writes.Add(1)
	p.applying.Add(-1)
}

// GetServer returns the remembered answer while valid, else reads it.
// Callers get a copy they may change.
func (s *cachedServer) GetServer() (*api.Server, string, error) {
	if s.p.applying.Load() > 0 {
		return s.InstanceServer.GetServer()
	}
	gen := s.p.writes.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil || s.gen != gen {
		srv, etag, err := s.InstanceServer.GetServer()
		if err != nil {
			s.srv = nil
			return nil, "", err
		}
		s.srv, s.etag, s.gen = srv, etag, gen
	}
	out, err := copyServer(s.srv)
	if err != nil {
		return nil, "", err
	}
	return out, s.etag, nil
}

// copyServer deep-copies srv (the library's types round-trip through JSON,
// which is how they arrived).
func copyServer(srv *api.Server) (*api.Server, error) {
	data, err := json.Marshal(srv)
	if err != nil {
		return nil, fmt.Errorf("failed to copy server info: %w", err)
	}
	var out api.Server
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("failed to copy server info: %w", err)
	}
	return &out, nil
}

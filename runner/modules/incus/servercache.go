package incus

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/incusconn"
)

// cachedServer is a connection whose GET /1.0 answer is remembered while
// the run writes nothing: a no-op apply plans several states against one
// daemon (cluster_enabled, cluster_member_present, settings_present) and
// reaches it again for the next target, and each plan would otherwise
// re-read the same server. Any Apply bumps the module's write generation,
// after which the next GetServer reads again. The answer read while
// connecting (incusconn.Conn.Info) seeds it when no Apply ran since.
//
// A change made outside statectl between the read and a later plan of the
// same run is seen by the next run, as with any change after a plan; an
// Apply uses the ETag of the read, so such a change is refused (HTTP 412),
// never overwritten. Member-scoped views (UseTarget) are not cached.
type cachedServer struct {
	incus.InstanceServer
	m *Module

	mu   sync.Mutex
	srv  *api.Server // nil: nothing remembered
	etag string
	gen  uint64 // m.writes when srv was read
}

// cached wraps c's server; m.mu is held.
func (m *Module) cached(c *incusconn.Conn) incus.InstanceServer {
	s := &cachedServer{InstanceServer: c.Server, m: m}
	if c.Info != nil && c.InfoAt.After(m.lastWrite) {
		s.srv, s.etag, s.gen = c.Info, c.ETag, m.writes.Load()
	}
	return s
}

// beginWrite and endWrite bracket an Apply: every answer remembered
// before is dropped, and reads during the Apply (before a write, and to
// check what the write did) go to the daemon.
func (m *Module) beginWrite() {
	m.applying.Add(1)
	m.wrote()
}

func (m *Module) endWrite() {
	m.wrote()
	m.applying.Add(-1)
}

// wrote invalidates every remembered answer.
func (m *Module) wrote() {
	m.writes.Add(1)
	m.mu.Lock()
	m.lastWrite = time.Now()
	m.mu.Unlock()
}

// GetServer returns the remembered answer while valid, else reads it.
// Callers get a copy they may change.
func (s *cachedServer) GetServer() (*api.Server, string, error) {
	if s.m.applying.Load() > 0 {
		return s.InstanceServer.GetServer()
	}
	gen := s.m.writes.Load()
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

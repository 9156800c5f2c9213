package incusconn

import (
	"encoding/json"
	"fmt"
	"sync"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// Storage pools and networks are cluster-wide: on a cluster every target
// plans the same pool against its own member, and each would read the
// same untargeted answer (and, with a members map, the same member
// entries). The run's read cache therefore keeps GET
// /1.0/storage-pools/NAME and GET /1.0/networks/NAME per cluster (members
// serve one cluster certificate) and per ?target=, with the same rules as
// GET /1.0 (see cachedServer): dropped by any write bracket, bypassed
// inside one. Errors are not remembered.

// resCache holds the run's pool and network answers.
type resCache struct {
	mu sync.Mutex
	m  map[resKey]resEntry
}

type resKey struct {
	scope  string // "cluster FINGERPRINT" or "conn NAME"
	kind   string // "pool", "network"
	target string // "" for the untargeted answer
	name   string
}

type resEntry struct {
	data []byte // the answer as JSON: each caller decodes its own copy
	etag string
	gen  uint64
}

// scopeOf keys the answers of conn (roster entry name): the cluster it
// belongs to, else the connection itself.
func scopeOf(name string, c *Conn) string {
	if c.Info != nil && c.Info.Environment.ServerClustered && c.Info.Environment.CertificateFingerprint != "" {
		return "cluster " + c.Info.Environment.CertificateFingerprint
	}
	return "conn " + name
}

// resGet returns a copy of the remembered answer for key, else calls read
// and remembers its answer.
func resGet[T any](p *Pool, key resKey, read func() (*T, string, error)) (*T, string, error) {
	if p.applying.Load() > 0 {
		return read()
	}
	gen := p.writes.Load()
	p.res.mu.Lock()
	e, ok := p.res.m[key]
	p.res.mu.Unlock()
	if !ok || e.gen != gen {
		v, etag, err := read()
		if err != nil {
			return nil, "", err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, "", fmt.Errorf("failed to copy %s %s: %w", key.kind, key.name, err)
		}
		e = resEntry{data: data, etag: etag, gen: gen}
		p.res.mu.Lock()
		if p.res.m == nil {
			p.res.m = map[resKey]resEntry{}
		}
		p.res.m[key] = e
		p.res.mu.Unlock()
	}
	out := new(T)
	if err := json.Unmarshal(e.data, out); err != nil {
		return nil, "", fmt.Errorf("failed to copy %s %s: %w", key.kind, key.name, err)
	}
	return out, e.etag, nil
}

// GetStoragePool serves the untargeted answer from the run's cache.
func (s *cachedServer) GetStoragePool(name string) (*api.StoragePool, string, error) {
	return resGet(s.p, resKey{s.scope, "pool", "", name}, func() (*api.StoragePool, string, error) {
		return s.InstanceServer.GetStoragePool(name)
	})
}

// GetNetwork serves the untargeted answer from the run's cache.
func (s *cachedServer) GetNetwork(name string) (*api.Network, string, error) {
	return resGet(s.p, resKey{s.scope, "network", "", name}, func() (*api.Network, string, error) {
		return s.InstanceServer.GetNetwork(name)
	})
}

// UseTarget returns the member-scoped view; its GET /1.0 is never cached
// (it is that member's config), its pool and network answers are.
func (s *cachedServer) UseTarget(name string) incus.InstanceServer {
	return &targetView{InstanceServer: s.InstanceServer.UseTarget(name), p: s.p, scope: s.scope, target: name}
}

// targetView is a cachedServer's view of one member (?target=).
type targetView struct {
	incus.InstanceServer
	p      *Pool
	scope  string
	target string
}

// GetStoragePool serves the member's entry from the run's cache.
func (s *targetView) GetStoragePool(name string) (*api.StoragePool, string, error) {
	return resGet(s.p, resKey{s.scope, "pool", s.target, name}, func() (*api.StoragePool, string, error) {
		return s.InstanceServer.GetStoragePool(name)
	})
}

// GetNetwork serves the member's entry from the run's cache.
func (s *targetView) GetNetwork(name string) (*api.Network, string, error) {
	return resGet(s.p, resKey{s.scope, "network", s.target, name}, func() (*api.Network, string, error) {
		return s.InstanceServer.GetNetwork(name)
	})
}

package incusconn

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/statectl/statectl/runner/roster"
)

// Pool shares connections within one run, so the grains of a target and
// the state modules that plan against it reach its daemon once (one
// connection, one GET /1.0) instead of once each; it holds the run's one
// read cache (see cachedServer). Failed connects are not remembered: the
// next Get tries again. A Pool is safe for concurrent use.
type Pool struct {
	roster *roster.Roster
	opts   Options
	// connect dials name (Connect; tests replace it).
	connect func(ctx context.Context, name string) (*Conn, error)
	// writes is the write generation, applying the open write brackets
	// (see BeginWrite).
	writes   atomic.Uint64
	applying atomic.Int32
	res      resCache

	mu     sync.Mutex
	conns  map[string]*Conn
	closed []*Conn // forgotten, closed with the pool
}

// NewPool returns a pool connecting to roster entries (or incus CLI
// remotes) of r with opts.
func NewPool(r *roster.Roster, opts Options) *Pool {
	p := &Pool{roster: r, opts: opts, conns: map[string]*Conn{}}
	p.connect = func(ctx context.Context, name string) (*Conn, error) { return Connect(ctx, p.roster, name, p.opts) }
	return p
}

// Get returns the pool's connection to name, connecting on first use. ctx
// bounds the connect, as in Connect.
func (p *Pool) Get(ctx context.Context, name string) (*Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[name]; ok {
		return c, nil
	}
	c, err := p.connect(ctx, name)
	if err != nil {
		return nil, err
	}
	p.cache(name, c)
	p.conns[name] = c
	return c, nil
}

// Forget drops the connection to name, so the next Get reconnects (e.g.
// after a join, when the member serves another certificate). It is not
// closed until the pool is: a caller may still hold it for a final read.
func (p *Pool) Forget(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[name]; ok {
		p.closed = append(p.closed, c)
		delete(p.conns, name)
	}
}

// Close closes every connection the pool opened.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	for _, c := range p.closed {
		c.Close()
	}
	p.conns, p.closed = map[string]*Conn{}, nil
}

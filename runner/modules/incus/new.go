package incus

import (
	"context"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/roster"
)

// New returns the incus module for one run. Targets are reached through
// incusconn (roster entry, else incus CLI remote) with opts; connections
// are cached until Close.
func New(r *roster.Roster, opts incusconn.Options) module.Module {
	p := incusconn.NewPool(r, opts)
	m := NewWithPool(r, p).(*Module)
	m.close = p.Close
	return m
}

// NewWithPool returns the incus module for one run, connecting through p,
// which the caller shares (e.g. with grains, so a target's daemon is
// reached once per run) and closes.
func NewWithPool(r *roster.Roster, p *incusconn.Pool) module.Module {
	m := newModule(r, func(ctx context.Context, name string) (*incusconn.Conn, error) {
		return p.Get(ctx, name)
	})
	m.undial = p.Forget
	return m
}

// Close closes every connection the module opened (not those of a pool
// passed to NewWithPool). The engine may call it (the module satisfies
// io.Closer) at the end of a run.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.close != nil {
		m.close()
	}
	m.conns = map[string]incus.InstanceServer{}
	return nil
}

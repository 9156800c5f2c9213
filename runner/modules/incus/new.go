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
	m := newModule(r, nil)
	m.dial = func(ctx context.Context, name string) (incus.InstanceServer, error) {
		c, err := incusconn.Connect(ctx, r, name, opts)
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, c.Close) // conn() holds m.mu
		return c.Server, nil
	}
	return m
}

// Close closes every connection the module opened. The engine may call it
// (the module satisfies io.Closer) at the end of a run.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.closers {
		c()
	}
	m.closers = nil
	m.conns = map[string]incus.InstanceServer{}
	return nil
}

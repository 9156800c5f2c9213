package incus

import (
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/roster"
)

// New returns the incus module for one run. Targets are reached through
// incusconn (roster entry, else incus CLI remote) with opts; connections
// are kept until Close.
func New(r *roster.Roster, opts incusconn.Options) module.Module {
	m := NewWithPool(r, incusconn.NewPool(r, opts)).(*Module)
	m.ownPool = true
	return m
}

// NewWithPool returns the incus module for one run, connecting through p,
// which the caller shares (e.g. with grains, so a target's daemon is
// reached once per run) and closes.
func NewWithPool(r *roster.Roster, p *incusconn.Pool) module.Module {
	if r == nil {
		r = &roster.Roster{Entries: map[string]*roster.Entry{}}
	}
	return &Module{roster: r, pool: p}
}

// Close closes the connections of a pool New made (not those of a pool
// passed to NewWithPool). The run calls it (the module satisfies
// io.Closer) at its end.
func (m *Module) Close() error {
	if m.ownPool {
		m.pool.Close()
	}
	return nil
}

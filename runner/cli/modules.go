package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/modules/testmod"
	"github.com/statectl/statectl/runner/roster"
)

// registry builds the state modules every command sees: the built-ins,
// then the plugins found on the plugin search path, which start only when
// a state (or `statectl modules`) uses them (see plugins.go). The incus
// module reaches other members (join through `cluster:`) by their roster
// names, so it gets the whole roster.
func (a *app) registry() *module.Registry {
	// One pool per run: grains and the incus module reach each daemon
	// once. A new pool per registry keeps watch passes from reusing
	// connections or answers across passes.
	a.pool = incusconn.NewPool(a.loadRoster(), incusconn.Options{Counter: a.counter})
	reg := module.NewRegistry(
		testmod.New(),
		incus.NewWithPool(a.loadRoster(), a.pool),
	)
	reg.SetResolver(a.pluginHost())
	return reg
}

// closeModules releases what modules hold for a run (connections, plugin
// processes). Only loaded modules: closing must not start a plugin.
func (a *app) closeModules(reg *module.Registry) {
	for _, m := range reg.Loaded() {
		if c, ok := m.(io.Closer); ok {
			c.Close()
		}
	}
	if a.pool != nil {
		a.pool.Close()
		a.pool = nil
	}
	a.states = nil
}

// loadRoster returns the roster (empty when the file is missing or bad:
// selectTargets reports those errors).
func (a *app) loadRoster() *roster.Roster {
	r, _ := a.readRoster()
	return r
}

// readRoster reads the roster file once per invocation (a watch pass
// re-reads it by clearing a.roster) and keeps the read's error for
// selectTargets. The roster is never nil: empty when the file is missing
// or bad.
func (a *app) readRoster() (*roster.Roster, error) {
	if a.roster == nil {
		r, err := roster.Load(a.opts.roster)
		if err != nil {
			r = &roster.Roster{File: a.opts.roster, Entries: map[string]*roster.Entry{}}
		}
		a.roster, a.rosterErr = r, err
	}
	return a.roster, a.rosterErr
}

// grainsTimeout bounds reaching a target's incusd for its grains: grains
// must not stall offline work (render in CI) on an unreachable daemon.
const grainsTimeout = 2 * time.Second

// grainSources are the extra grain layers (between core and roster custom
// grains): the Incus server grains under `incus`, when the target's daemon
// answers. They are best effort: render, pillar and grains work offline,
// and --offline skips them.
func (a *app) grainSources() []grains.Source {
	if a.opts.offline {
		return nil
	}
	return []grains.Source{a.incusGrains}
}

func (a *app) incusGrains(ctx context.Context, name string, entry *roster.Entry) (map[string]any, error) {
	// No entry: an incus CLI remote (see selectTargets). An entry without
	// an endpoint (e.g. local) has no daemon to ask.
	if entry != nil && entry.Socket == "" && entry.URL == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, grainsTimeout)
	defer cancel()
	var c *incusconn.Conn
	var err error
	if a.pool != nil {
		// The run's pool: the module plans over this connection later.
		c, err = a.pool.Get(ctx, name)
	} else {
		c, err = incusconn.Connect(ctx, a.loadRoster(), name, incusconn.Options{ConnectTimeout: grainsTimeout, RequestTimeout: grainsTimeout, Counter: a.counter})
		if c != nil {
			defer c.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "statectl: warning: %s: no incus grains: %v\n", name, err)
		return nil, nil
	}
	g, err := incusconn.ServerGrains(ctx, c)
	if err != nil {
		fmt.Fprintf(a.stderr, "statectl: warning: %s: no incus grains: %v\n", name, err)
		return nil, nil
	}
	return map[string]any{"incus": g}, nil
}

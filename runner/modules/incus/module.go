// Package incus is the built-in `incus` state module: cluster membership
// (cluster_enabled, cluster_member_present, cluster_member_absent) and
// server settings (settings_present, settings_managed, settings_config,
// settings_absent), with the Salt formula's function names.
//
// Every function follows the same discipline: Plan only reads (test mode
// sends no write request) and records the ETags it read in Plan.Private;
// Apply writes with those ETags, so a concurrent edit between plan and
// apply fails with HTTP 412 and is reported, never overwritten. Secrets
// (join tokens, passwords, secret config keys) are masked in changes,
// comments and errors.
//
// Incus holds a join or a PUT /1.0 until every member answers, and a
// member that stopped answering stays "Online" for
// cluster.offline_threshold. Plans that would write through such a cluster
// (join, settings, and the quorum check of a removal) probe the members
// with a TLS handshake first and fail with the member named, instead of
// hanging until the request timeout (see probeMembers).
package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/roster"
)

// dialFunc connects to the roster entry name.
type dialFunc func(ctx context.Context, name string) (*incusconn.Conn, error)

// Module serves the incus.* state functions. Connections are opened on
// first use and cached for the life of the Module (one run).
type Module struct {
	roster *roster.Roster
	dial   dialFunc
	// undial drops a connection of the dialer's (see forget); close
	// releases the dialer's connections (see Close). Both may be nil.
	undial func(name string)
	close  func()

	mu    sync.Mutex
	conns map[string]incus.InstanceServer
	// writes is the write generation: Apply bumps it before and after
	// writing, which invalidates every remembered GET /1.0 answer (see
	// cachedServer); lastWrite is when it last did (or the Module's
	// creation).
	writes    atomic.Uint64
	lastWrite time.Time
	// applying is non-zero during an Apply, which always reads afresh.
	applying atomic.Int32
	// joins are the joins of this run (see joinBook).
	joins joinBook
}

var _ module.Module = (*Module)(nil)

func newModule(r *roster.Roster, dial dialFunc) *Module {
	if r == nil {
		r = &roster.Roster{Entries: map[string]*roster.Entry{}}
	}
	// lastWrite starts at creation: a connection opened before (by a
	// shared pool, in an earlier run) has no answer this run may trust.
	return &Module{roster: r, dial: dial, conns: map[string]incus.InstanceServer{}, lastWrite: time.Now()}
}

// call is one invocation with its masker.
type call struct {
	*module.Call
	mask *masker
}

// function is one state function: its spec and its three phases.
type function struct {
	spec     module.FuncSpec
	validate func(c *module.Call) error
	plan     func(ctx context.Context, m *Module, c *call) (*module.Plan, error)
	apply    func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error)
}

// functions lists the state functions in documentation order.
func functions() []*function {
	return []*function{
		clusterEnabled,
		clusterMemberPresent,
		clusterMemberAbsent,
		settingsPresent,
		settingsManaged,
		settingsConfig,
		settingsAbsent,
	}
}

func lookup(name string) (*function, error) {
	for _, f := range functions() {
		if f.spec.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("incus: unknown function %q", name)
}

// Name implements module.Module.
func (m *Module) Name() string { return "incus" }

// Functions implements module.Module.
func (m *Module) Functions() []module.FuncSpec {
	fs := functions()
	out := make([]module.FuncSpec, len(fs))
	for i, f := range fs {
		out[i] = f.spec
	}
	return out
}

// Validate implements module.Module.
func (m *Module) Validate(c *module.Call) error {
	f, err := lookup(c.Function)
	if err != nil {
		return err
	}
	if f.validate == nil {
		return nil
	}
	mk := newMasker(f.spec, c.Args)
	return mk.err(f.validate(c))
}

// Plan implements module.Module.
func (m *Module) Plan(ctx context.Context, c *module.Call) (*module.Plan, error) {
	f, err := lookup(c.Function)
	if err != nil {
		return nil, err
	}
	cc := &call{Call: c, mask: newMasker(f.spec, c.Args)}
	p, err := f.plan(ctx, m, cc)
	if err != nil {
		return nil, cc.mask.err(fmt.Errorf("%s: %w", c.ID, err))
	}
	p.Comment = cc.mask.text(p.Comment)
	p.Changes = maskChanges(cc.mask, p.Changes)
	if p.Fail && c.Function == clusterMemberPresent.spec.Name {
		// Settings planned after it must not configure a server left
		// out of its cluster (see joinBook); a clustered one is unaffected.
		m.noteJoinFailed(c.Name, fmt.Errorf("its cluster_member_present state fails"))
	}
	return p, nil
}

// Apply implements module.Module.
func (m *Module) Apply(ctx context.Context, c *module.Call, p *module.Plan) (*module.Outcome, error) {
	f, err := lookup(c.Function)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("%s: apply without a plan", c.ID)
	}
	if p.Fail {
		// The engine applies a failing plan outside test mode: the
		// plan's reason is the outcome, and nothing is written.
		return &module.Outcome{Failed: true, Comment: p.Comment}, nil
	}
	cc := &call{Call: c, mask: newMasker(f.spec, c.Args)}
	m.beginWrite()
	defer m.endWrite()
	o, err := f.apply(ctx, m, cc, p)
	if err != nil {
		return nil, cc.mask.err(fmt.Errorf("%s: %w", c.ID, err))
	}
	o.Comment = cc.mask.text(o.Comment)
	o.Changes = maskChanges(cc.mask, o.Changes)
	return o, nil
}

// conn returns the cached connection to roster entry name.
func (m *Module) conn(ctx context.Context, name string) (incus.InstanceServer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.conns[name]; ok {
		return s, nil
	}
	c, err := m.dial(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to %s: %w", name, err)
	}
	s := m.cached(c)
	m.conns[name] = s
	return s, nil
}

// forget drops a cached connection: after a join the member serves the
// cluster certificate, so a pinned https connection must be rebuilt.
func (m *Module) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// No Disconnect: it cancels the connection's context, and a caller
	// may still hold the server for a final read.
	delete(m.conns, name)
	if m.undial != nil {
		m.undial(name)
	}
}

// targetName is the roster name of the call's target.
func targetName(c *call) (string, error) {
	if c.Target == nil || c.Target.Name == "" {
		return "", fmt.Errorf("no target: incus functions run against a roster target")
	}
	return c.Target.Name, nil
}

// targetConn returns the call's target name and the connection to it.
func (m *Module) targetConn(ctx context.Context, c *call) (string, incus.InstanceServer, error) {
	tgt, err := targetName(c)
	if err != nil {
		return "", nil, err
	}
	s, err := m.conn(ctx, tgt)
	if err != nil {
		return "", nil, err
	}
	return tgt, s, nil
}

func encodePrivate(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		// Private structs hold only strings and bools.
		panic(fmt.Sprintf("incus: failed to encode plan data: %v", err))
	}
	return data
}

func decodePrivate(p *module.Plan, v any) error {
	if len(p.Private) == 0 {
		return fmt.Errorf("plan carries no private data: apply needs the plan made by this module")
	}
	if err := json.Unmarshal(p.Private, v); err != nil {
		return fmt.Errorf("failed to decode plan data: %w", err)
	}
	return nil
}

// change is one Salt change entry.
func change(old, new any) map[string]any { return map[string]any{"old": old, "new": new} }

// orNil turns "" into nil, Salt's None.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sortedCopy returns a sorted copy of list.
func sortedCopy(list []string) []string {
	out := append([]string{}, list...)
	sort.Strings(out)
	return out
}

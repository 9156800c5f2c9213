// Package incus is the built-in `incus` state module: cluster membership
// (cluster_enabled, cluster_member_present, cluster_member_absent) and
// server settings (settings_present, settings_managed, settings_config,
// settings_absent) and the cluster's shared resources (storage_pool_present,
// storage_pool_absent, network_present, network_absent) and maintenance
// (cluster_member_evacuated, cluster_member_restored, cluster_group_present,
// cluster_group_absent, cluster_certificate), with the Salt formula's
// function names.
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

	incus "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/roster"
)

// Module serves the incus.* state functions for one run. It reaches
// targets through the run's connection pool, which also holds the run's
// one read cache; the module itself remembers nothing between calls.
type Module struct {
	roster *roster.Roster
	pool   *incusconn.Pool
	// ownPool is set when New made the pool: Close closes it.
	ownPool bool
	// noJoinChecks skips the checks for join leftovers (rejoin.go), so
	// tests can make a join fail the way they prevent.
	noJoinChecks bool
}

var _ module.Module = (*Module)(nil)

// call is one invocation with its masker and its decoded arguments.
type call struct {
	*module.Call
	mask *masker
	// args is what the function's decode returned (*presentArgs ...).
	args any
}

// function is one state function: its spec, its argument decoder and its
// two live phases.
type function struct {
	spec module.FuncSpec
	// decode turns the YAML arguments into the function's typed arguments
	// and checks them offline. Validate, Plan and Apply each start from
	// it, so no phase parses arguments its own way or drops an error.
	decode func(c *module.Call) (any, error)
	plan   func(ctx context.Context, m *Module, c *call) (*module.Plan, error)
	apply  func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error)
}

// newCall decodes c's arguments for f.
func newCall(f *function, c *module.Call) (*call, error) {
	cc := &call{Call: c, mask: newMasker(f.spec, c.Args)}
	args, err := f.decode(c)
	if err != nil {
		return nil, cc.mask.err(fmt.Errorf("%s: %w", c.ID, err))
	}
	cc.args = args
	return cc, nil
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
		storagePoolPresent,
		storagePoolAbsent,
		networkPresent,
		networkAbsent,
		clusterMemberEvacuated,
		clusterMemberRestored,
		clusterMemberOnline,
		clusterGroupPresent,
		clusterGroupAbsent,
		clusterCert,
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
	mk := newMasker(f.spec, c.Args)
	_, err = f.decode(c)
	return mk.err(err)
}

// Plan implements module.Module.
func (m *Module) Plan(ctx context.Context, c *module.Call) (*module.Plan, error) {
	f, err := lookup(c.Function)
	if err != nil {
		return nil, err
	}
	cc, err := newCall(f, c)
	if err != nil {
		return nil, err
	}
	p, err := f.plan(ctx, m, cc)
	if err != nil {
		return nil, cc.mask.err(fmt.Errorf("%s: %w", c.ID, err))
	}
	p.Comment = cc.mask.text(p.Comment)
	p.Changes = maskChanges(cc.mask, p.Changes)
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
	cc, err := newCall(f, c)
	if err != nil {
		return nil, err
	}
	m.pool.BeginWrite()
	defer m.pool.EndWrite()
	o, err := f.apply(ctx, m, cc, p)
	if err != nil {
		return nil, cc.mask.err(fmt.Errorf("%s: %w", c.ID, err))
	}
	o.Comment = cc.mask.text(o.Comment)
	o.Changes = maskChanges(cc.mask, o.Changes)
	return o, nil
}

// conn returns the run's connection to roster entry name.
func (m *Module) conn(ctx context.Context, name string) (incus.InstanceServer, error) {
	c, err := m.pool.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to %s: %w", name, err)
	}
	return c.Server, nil
}

// forget drops a connection: after a join the member serves the cluster
// certificate, so a pinned https connection must be rebuilt.
func (m *Module) forget(name string) { m.pool.Forget(name) }

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

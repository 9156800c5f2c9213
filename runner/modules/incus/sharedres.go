package incus

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// Storage pools and networks are cluster-wide resources with a per-member
// part. On a cluster Incus creates them in two phases: a pending entry per
// member (POST with ?target=MEMBER, member-specific keys only, no
// description), then one untargeted POST with the global keys that creates
// the resource on every member (status Pending -> Created, or Errored when a
// member failed; a retry after Errored must carry no global config). The
// code below serves both kinds through one adapter (resKind), so pools and
// networks follow the same plan: read, diff, then Apply re-reads and does
// the same steps with the plan's ETags.

// resKind adapts the Incus API of one resource kind.
type resKind struct {
	noun      string // "storage pool", "network"
	typeArg   string // the argument naming the immutable type: driver, type
	memberKey func(key string) bool
	// fixedOnceCreated reports member-specific keys Incus changes only
	// while the member's entry is pending (nil: none).
	fixedOnceCreated func(key string) bool
	// targeted reports whether resources of this type take pending entries
	// (false: one untargeted create makes the member rows itself).
	targeted func(typ string) bool
	get      func(s incus.InstanceServer, name string) (*resInfo, string, error)
	create   func(s incus.InstanceServer, name, typ, desc string, cfg map[string]string) error
	update   func(s incus.InstanceServer, name, desc string, cfg map[string]string, etag string) error
	remove   func(s incus.InstanceServer, name string) error
}

// resInfo is what both kinds answer to a GET.
type resInfo struct {
	typ         string
	description string
	config      map[string]string
	status      string
	locations   []string
	usedBy      []string
}

// resArgs are the decoded arguments of a *_present function.
type resArgs struct {
	typ         string
	config      map[string]*string // global keys (nil value: remove)
	own         map[string]*string // member-specific keys from config: the target's own
	members     map[string]map[string]*string
	description *string
}

// resAbsentArgs are the decoded arguments of a *_absent function.
type resAbsentArgs struct{}

var membersArgDoc = "Member-specific values per cluster member, for a pillar written once for the whole cluster: " +
	"`{MEMBER: {KEY: VALUE}}`. Without it, member-specific keys in `config` are the target's own (each member's " +
	"own pillar render, the Salt way)."

func decodeResPresent(k *resKind) func(c *module.Call) (any, error) {
	return func(c *module.Call) (any, error) {
		if c.Name == "" {
			return nil, fmt.Errorf("argument name: must not be empty")
		}
		a := &resArgs{config: map[string]*string{}, own: map[string]*string{}}
		typ, ok, err := argString(c.Args, k.typeArg)
		if err != nil {
			return nil, err
		}
		if !ok || typ == "" {
			if k.typeArg != "type" {
				return nil, fmt.Errorf("argument %s: required", k.typeArg)
			}
			typ = "bridge" // Incus's default network type
		}
		a.typ = typ
		cfg, _, err := argConfig(c.Args, "config")
		if err != nil {
			return nil, err
		}
		for key, v := range cfg {
			if key == "" || strings.ContainsAny(key, " \t\n") {
				return nil, fmt.Errorf("argument config: invalid key %q", key)
			}
			if k.memberKey(key) && k.targeted(typ) {
				a.own[key] = v
			} else {
				a.config[key] = v
			}
		}
		if d, ok, err := argString(c.Args, "description"); err != nil {
			return nil, err
		} else if ok {
			a.description = &d
		}
		if v, present := c.Args["members"]; present && v != nil {
			mm, isMap := v.(map[string]any)
			if !isMap {
				return nil, fmt.Errorf("argument members: want a mapping of member names to config, got %T", v)
			}
			if !k.targeted(typ) {
				return nil, fmt.Errorf("argument members: %s type %s takes no member-specific config", k.noun, typ)
			}
			a.members = map[string]map[string]*string{}
			for _, member := range sortedKeys(mm) {
				mc, _, err := argConfig(mm, member)
				if err != nil {
					return nil, fmt.Errorf("argument members: %w", err)
				}
				for _, key := range sortedKeys(mc) {
					if !k.memberKey(key) {
						return nil, fmt.Errorf("argument members: member %s: key %q is not member-specific (Incus keeps it once for the whole cluster: put it in config)", member, key)
					}
				}
				if mc == nil {
					mc = map[string]*string{}
				}
				a.members[member] = mc
			}
		}
		return a, nil
	}
}

func decodeResAbsent(c *module.Call) (any, error) {
	if c.Name == "" {
		return nil, fmt.Errorf("argument name: must not be empty")
	}
	return &resAbsentArgs{}, nil
}

// memberValues returns the member-specific values wanted for member, and
// whether this call knows them: given in `members`, the target's own, or
// nothing member-specific is asked for at all.
func (a *resArgs) memberValues(member, self string) (map[string]*string, bool) {
	if mc, ok := a.members[member]; ok {
		out := map[string]*string{}
		for k, v := range a.own {
			out[k] = v
		}
		for k, v := range mc {
			out[k] = v
		}
		return out, true
	}
	if member == self || (a.members == nil && len(a.own) == 0) {
		return a.own, true
	}
	return nil, false
}

// resStep is one write of a plan, in order.
type resStep struct {
	Op     string            `json:"op"`               // pending, create, retry, update, member
	Member string            `json:"member,omitempty"` // pending, member
	Config map[string]string `json:"config,omitempty"`
	Desc   string            `json:"desc,omitempty"`
	ETag   string            `json:"etag,omitempty"` // update, member
}

// resPlan is what planRes found: the steps, in Salt's changes shape too.
type resPlan struct {
	action  module.Action
	steps   []resStep
	changes map[string]any
	notes   []string
	fail    string
	// clustered: the target is a cluster member.
	clustered bool
}

// planRes reads the resource through the target and plans the steps. On
// a cluster, writes wait until every member answers: a member that stopped
// answering (still listed Online until cluster.offline_threshold) would
// hold a create half-done until the request times out, so the plan probes
// the members first and fails naming it, with nothing written.
func (m *Module) planRes(ctx context.Context, c *call, k *resKind) (incus.InstanceServer, *resPlan, error) {
	s, p, err := m.planResSteps(ctx, c, k)
	if err != nil || p.fail != "" || len(p.steps) == 0 || !p.clustered {
		return s, p, err
	}
	stalled, err := m.stalledFor(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if stalled != "" {
		p.fail = fmt.Sprintf("%s %s cannot be written now: %s; Incus would hold the request until they answer. "+
			"Nothing was written: re-run once they answer, or once the cluster marks them offline (cluster.offline_threshold)",
			capitalise(k.noun), c.Name, stalled)
	}
	return s, p, nil
}

func (m *Module) planResSteps(ctx context.Context, c *call, k *resKind) (incus.InstanceServer, *resPlan, error) {
	a := c.args.(*resArgs)
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	info, err := readServer(s)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", tgt, err)
	}
	cur, etag, err := k.get(s, c.Name)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read %s %s: %w", k.noun, c.Name, err)
	}
	p := &resPlan{changes: map[string]any{}, action: module.NoOp}
	if cur != nil && cur.typ != a.typ {
		p.fail = fmt.Sprintf("%s %s has %s %s, the state wants %s: Incus cannot change it in place. Remove it "+
			"(incus.%s_absent, after moving what uses it) and apply again, or give the new one another name",
			k.noun, c.Name, k.typeArg, cur.typ, a.typ, strings.ReplaceAll(k.noun, " ", "_"))
		return s, p, nil
	}
	if !info.clustered {
		return s, m.planResSingle(c, k, cur, etag), nil
	}
	p.clustered = true
	var names []string
	if cur != nil && cur.status == api.StoragePoolStatusCreated && k.targeted(a.typ) {
		// Every member has an entry once the create ran (joins add
		// theirs): the locations are the members, one read saved on
		// every no-op run.
		names = append(names, cur.locations...)
	} else {
		members, err := s.GetClusterMemberNames()
		if err != nil {
			return nil, nil, fmt.Errorf("failed to list cluster members: %w", err)
		}
		for _, u := range members {
			names = append(names, u[strings.LastIndex(u, "/")+1:])
		}
	}
	slices.Sort(names)
	for _, mname := range sortedKeys(a.members) {
		if !slices.Contains(names, mname) {
			p.notes = append(p.notes, fmt.Sprintf("members lists %s, which is not a cluster member (yet): ignored", mname))
		}
	}
	status := ""
	if cur != nil {
		status = cur.status
	}
	switch status {
	case "", api.StoragePoolStatusPending:
		if cur == nil {
			p.changes[k.typeArg] = change(nil, a.typ)
		}
		p.action = module.Create
		var waiting []string
		if k.targeted(a.typ) {
			for _, mname := range names {
				want, known := a.memberValues(mname, info.name)
				if cur != nil && slices.Contains(cur.locations, mname) {
					// An entry made earlier (an interrupted run, another
					// pillar): a targeted PUT updates it while pending.
					if known && len(want) > 0 {
						if err := m.planResMember(s, c, k, mname, want, p); err != nil {
							return nil, nil, err
						}
					}
					continue
				}
				if !known {
					waiting = append(waiting, mname)
					continue
				}
				cfg := setValues(want)
				p.steps = append(p.steps, resStep{Op: "pending", Member: mname, Config: cfg})
				p.changes["member "+mname] = change(nil, maskConfig(cfg))
			}
		}
		if len(waiting) > 0 {
			p.notes = append(p.notes, fmt.Sprintf("the cluster-wide create waits for %s, which still lack%s a pending entry "+
				"(their own states add it, or list them in members); the last of them finishes it",
				strings.Join(waiting, ", "), map[bool]string{true: "s", false: ""}[len(waiting) == 1]))
			if len(p.steps) == 0 {
				p.action = module.NoOp
				delete(p.changes, k.typeArg)
			}
			return s, p, nil
		}
		cfg := setValues(a.config)
		desc := ""
		if a.description != nil {
			desc = *a.description
		}
		p.steps = append(p.steps, resStep{Op: "create", Config: cfg, Desc: desc})
		p.changes["status"] = change(orNil(status), api.StoragePoolStatusCreated)
		for key, v := range cfg {
			p.changes[key] = change(nil, maskValue(key, v))
		}
		if desc != "" {
			p.changes["description"] = change(nil, desc)
		}
		return s, p, nil
	case api.StoragePoolStatusErrored:
		var missing []string
		for _, mname := range names {
			if !slices.Contains(cur.locations, mname) && k.targeted(a.typ) {
				missing = append(missing, mname)
			}
		}
		if len(missing) > 0 {
			p.fail = fmt.Sprintf("%s %s is Errored and has no entry for %s; Incus takes no new entry in that state: "+
				"remove it (incus.%s_absent) and apply again", k.noun, c.Name, strings.Join(missing, ", "), strings.ReplaceAll(k.noun, " ", "_"))
			return s, p, nil
		}
		// A retry sends no global config: Incus stored it at the first try.
		p.action = module.Create
		p.steps = append(p.steps, resStep{Op: "retry"})
		p.changes["status"] = change(api.StoragePoolStatusErrored, api.StoragePoolStatusCreated)
		if err := m.planResConverge(ctx, s, c, k, cur, etag, names, info.name, p); err != nil {
			return nil, nil, err
		}
		return s, p, nil
	case api.StoragePoolStatusCreated:
		if err := m.planResConverge(ctx, s, c, k, cur, etag, names, info.name, p); err != nil {
			return nil, nil, err
		}
		if len(p.steps) > 0 {
			p.action = module.Update
		}
		return s, p, nil
	default:
		p.fail = fmt.Sprintf("%s %s is %s; apply again once every member answers", k.noun, c.Name, status)
		return s, p, nil
	}
}

// planResConverge plans updates of a created (or errored) resource: the
// global keys and description in one untargeted PUT with the GET's ETag,
// member-specific keys through a targeted GET and PUT per member whose
// values the call knows. Only keys the state names are compared, so keys
// Incus adds (volatile.*, defaults it fills in) are no drift.
func (m *Module) planResConverge(ctx context.Context, s incus.InstanceServer, c *call, k *resKind, cur *resInfo, etag string, names []string, self string, p *resPlan) error {
	a := c.args.(*resArgs)
	cfg, changed := mergeConfig(cur.config, a.config, "", p.changes)
	desc := cur.description
	if a.description != nil && *a.description != cur.description {
		p.changes["description"] = change(cur.description, *a.description)
		desc, changed = *a.description, true
	}
	if changed {
		p.steps = append(p.steps, resStep{Op: "update", Config: cfg, Desc: desc, ETag: etag})
	}
	if !k.targeted(a.typ) {
		return nil
	}
	for _, mname := range names {
		want, known := a.memberValues(mname, self)
		if !known || len(want) == 0 {
			continue
		}
		if err := m.planResMember(s, c, k, mname, want, p); err != nil {
			return err
		}
		if p.fail != "" {
			return nil
		}
	}
	return nil
}

// planResMember plans a targeted update of member mname's entry to want.
// A key Incus fixes once the entry is created (a pool's source) fails the
// plan with the way out instead of a write Incus would refuse.
func (m *Module) planResMember(s incus.InstanceServer, c *call, k *resKind, mname string, want map[string]*string, p *resPlan) error {
	mi, metag, err := k.get(s.UseTarget(mname), c.Name)
	if err != nil {
		return fmt.Errorf("failed to read %s %s on member %s: %w", k.noun, c.Name, mname, err)
	}
	if mi == nil {
		return nil
	}
	if k.fixedOnceCreated != nil && mi.status != api.StoragePoolStatusPending {
		for _, key := range sortedKeys(want) {
			if v := want[key]; k.fixedOnceCreated(key) && v != nil && mi.config[key] != *v {
				p.fail = fmt.Sprintf("%s %s has %s %s on member %s, the state wants %s: Incus changes it only while the member's "+
					"entry is pending. Keep the current value, or remove the %s (incus.%s_absent, after moving what uses it) and apply again",
					k.noun, c.Name, key, maskValue(key, mi.config[key]), mname, maskValue(key, *v), k.noun, strings.ReplaceAll(k.noun, " ", "_"))
				return nil
			}
		}
	}
	mcfg, mchanged := mergeConfig(mi.config, want, "member "+mname+": ", p.changes)
	if mchanged {
		p.steps = append(p.steps, resStep{Op: "member", Member: mname, Config: mcfg, Desc: mi.description, ETag: metag})
	}
	return nil
}

// planResSingle plans a resource on a server that is not clustered: one
// create with every key, or one update.
func (m *Module) planResSingle(c *call, k *resKind, cur *resInfo, etag string) *resPlan {
	a := c.args.(*resArgs)
	all := map[string]*string{}
	for key, v := range a.config {
		all[key] = v
	}
	for key, v := range a.own {
		all[key] = v
	}
	p := &resPlan{changes: map[string]any{}, action: module.NoOp}
	if cur == nil {
		cfg := setValues(all)
		desc := ""
		if a.description != nil {
			desc = *a.description
		}
		p.action = module.Create
		p.steps = []resStep{{Op: "create", Config: cfg, Desc: desc}}
		p.changes[k.typeArg] = change(nil, a.typ)
		for key, v := range cfg {
			p.changes[key] = change(nil, maskValue(key, v))
		}
		if desc != "" {
			p.changes["description"] = change(nil, desc)
		}
		return p
	}
	cfg, changed := mergeConfig(cur.config, all, "", p.changes)
	desc := cur.description
	if a.description != nil && *a.description != cur.description {
		p.changes["description"] = change(cur.description, *a.description)
		desc, changed = *a.description, true
	}
	if changed {
		p.action = module.Update
		p.steps = []resStep{{Op: "update", Config: cfg, Desc: desc, ETag: etag}}
	}
	return p
}

// mergeConfig applies want to a copy of have and records the changes
// under prefix+key.
func mergeConfig(have map[string]string, want map[string]*string, prefix string, changes map[string]any) (map[string]string, bool) {
	out := make(map[string]string, len(have)+len(want))
	for key, v := range have {
		out[key] = v
	}
	changed := false
	for _, key := range sortedKeys(want) {
		old, had := have[key]
		if v := want[key]; v == nil {
			if had {
				delete(out, key)
				changes[prefix+key] = change(maskValue(key, old), nil)
				changed = true
			}
		} else if !had || old != *v {
			out[key] = *v
			changes[prefix+key] = change(maskValue(key, orNil(old)), maskValue(key, *v))
			changed = true
		}
	}
	return out, changed
}

// setValues returns the keys of want that have a value.
func setValues(want map[string]*string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func maskConfig(cfg map[string]string) map[string]any {
	out := make(map[string]any, len(cfg))
	for k, v := range cfg {
		out[k] = maskValue(k, v)
	}
	return out
}

// resComment says what the plan does (or did).
func resComment(k *resKind, name string, p *resPlan, test bool) string {
	var b strings.Builder
	what := fmt.Sprintf("%s %s", capitalise(k.noun), name)
	switch {
	case len(p.steps) == 0:
		b.WriteString(what + " is in the desired state")
		if len(p.notes) > 0 && p.action == module.NoOp {
			b.Reset()
			b.WriteString(what + " is pending")
		}
	default:
		var did []string
		for _, st := range p.steps {
			switch st.Op {
			case "pending":
				did = append(did, "pending entry on "+st.Member)
			case "create":
				did = append(did, "cluster-wide create")
			case "retry":
				did = append(did, "retry of the errored create")
			case "update":
				did = append(did, "cluster-wide config")
			case "member":
				did = append(did, "member config on "+st.Member)
			}
		}
		verb := "updated"
		if test {
			verb = "would be updated"
		}
		fmt.Fprintf(&b, "%s %s: %s", what, verb, strings.Join(did, ", "))
	}
	for _, n := range p.notes {
		b.WriteString("; " + n)
	}
	return b.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type resPrivate struct {
	Steps []resStep `json:"steps"`
}

func planResource(k *resKind) func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	return func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
		_, p, err := m.planRes(ctx, c, k)
		if err != nil {
			return nil, err
		}
		if p.fail != "" {
			return &module.Plan{Fail: true, Comment: p.fail}, nil
		}
		out := &module.Plan{Action: p.action, Comment: resComment(k, c.Name, p, true)}
		if len(p.steps) > 0 {
			out.Changes = p.changes
			out.Private = encodePrivate(resPrivate{Steps: p.steps})
		}
		return out, nil
	}
}

// applyResource re-plans from fresh reads and performs the steps; updates
// carry the ETags the plan read, so an edit since the plan fails with 412.
func applyResource(k *resKind) func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	return func(ctx context.Context, m *Module, c *call, plan *module.Plan) (*module.Outcome, error) {
		var priv resPrivate
		if err := decodePrivate(plan, &priv); err != nil {
			return nil, err
		}
		s, p, err := m.planRes(ctx, c, k)
		if err != nil {
			return nil, err
		}
		if p.fail != "" {
			return &module.Outcome{Failed: true, Comment: p.fail}, nil
		}
		planned := map[string]string{}
		for _, st := range priv.Steps {
			if st.ETag != "" {
				planned[st.Op+"/"+st.Member] = st.ETag
			}
		}
		a := c.args.(*resArgs)
		for _, st := range p.steps {
			if e, ok := planned[st.Op+"/"+st.Member]; ok {
				st.ETag = e
			}
			if err := doResStep(s, k, c.Name, a.typ, st); err != nil {
				if isStale(err) {
					return &module.Outcome{Failed: true, Changes: nil, Comment: errConcurrent(k.noun + " " + c.Name).Error()}, nil
				}
				return nil, err
			}
		}
		// The create may have finished in a state that still differs (a
		// retry keeps the first try's global config): converge it now.
		if len(p.steps) > 0 && (p.steps[len(p.steps)-1].Op == "create" || p.steps[len(p.steps)-1].Op == "retry") {
			holdBefore(resStep{Op: "converge"})
			_, p2, err := m.planRes(ctx, c, k)
			why := ""
			if err != nil {
				why = err.Error()
			} else if p2.fail != "" {
				why = p2.fail
			}
			if why != "" {
				// Created, but not known to match the state: say so (a
				// re-run converges it) rather than report success.
				return &module.Outcome{Failed: true, Changes: p.changes, Comment: resComment(k, c.Name, p, false) +
					"; reading it back to converge it failed (a re-run converges it): " + why}, nil
			}
			for _, st := range p2.steps {
				if st.Op == "update" || st.Op == "member" {
					if err := doResStep(s, k, c.Name, a.typ, st); err != nil {
						return nil, err
					}
				}
			}
			for key, v := range p2.changes {
				if _, ok := p.changes[key]; !ok {
					p.changes[key] = v
				}
			}
		}
		return &module.Outcome{Changes: p.changes, Comment: resComment(k, c.Name, p, false)}, nil
	}
}

// doResStep performs one step through the target s.
func doResStep(s incus.InstanceServer, k *resKind, name, typ string, st resStep) error {
	holdBefore(st)
	var err error
	switch st.Op {
	case "pending":
		err = k.create(s.UseTarget(st.Member), name, typ, "", st.Config)
		if err != nil && isAlreadyDefined(err) {
			// Another run (or a target of this one) added it meanwhile.
			err = nil
		}
		if err != nil {
			return fmt.Errorf("failed to add the pending entry of %s %s on member %s: %w", k.noun, name, st.Member, err)
		}
	case "create":
		err = k.create(s, name, typ, st.Desc, st.Config)
		if err != nil {
			if cur, _, gerr := k.get(s, name); gerr == nil && cur != nil && cur.status == api.StoragePoolStatusCreated {
				return nil // another target finished it meanwhile
			}
			return fmt.Errorf("failed to create %s %s on the cluster (a re-run retries it): %w", k.noun, name, err)
		}
	case "retry":
		if err = k.create(s, name, typ, "", nil); err != nil {
			return fmt.Errorf("failed to retry the create of %s %s (a re-run retries it again): %w", k.noun, name, err)
		}
	case "update":
		if err = k.update(s, name, st.Desc, st.Config, st.ETag); err != nil {
			if isStale(err) {
				return err
			}
			return fmt.Errorf("failed to update %s %s: %w", k.noun, name, err)
		}
	case "member":
		if err = k.update(s.UseTarget(st.Member), name, st.Desc, st.Config, st.ETag); err != nil {
			if isStale(err) {
				return err
			}
			return fmt.Errorf("failed to update %s %s on member %s: %w", k.noun, name, st.Member, err)
		}
	default:
		return fmt.Errorf("unknown plan step %q", st.Op)
	}
	return nil
}

// isAlreadyDefined matches Incus's answer to a second targeted create for
// the same member.
func isAlreadyDefined(err error) bool {
	return api.StatusErrorCheck(err, http.StatusConflict) || strings.Contains(err.Error(), "already defined on member")
}

func isNotFound(err error) bool { return api.StatusErrorCheck(err, http.StatusNotFound) }

// absentState reads name for an absent state: the connection, and a
// comment with done=true when there is nothing to remove (already absent)
// or blocked=true when it is still in use.
func absentState(ctx context.Context, m *Module, c *call, k *resKind) (s incus.InstanceServer, comment string, done, blocked bool, err error) {
	_, s, err = m.targetConn(ctx, c)
	if err != nil {
		return nil, "", false, false, err
	}
	cur, _, err := k.get(s, c.Name)
	if err != nil {
		return nil, "", false, false, fmt.Errorf("failed to read %s %s: %w", k.noun, c.Name, err)
	}
	if cur == nil {
		return s, fmt.Sprintf("%s %s is already absent", capitalise(k.noun), c.Name), true, false, nil
	}
	if len(cur.usedBy) > 0 {
		return s, fmt.Sprintf("%s %s is still used by %s: remove or move those first",
			capitalise(k.noun), c.Name, strings.Join(sortedCopy(cur.usedBy), ", ")), false, true, nil
	}
	return s, "", false, false, nil
}

func planResAbsent(k *resKind) func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	return func(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
		_, comment, done, blocked, err := absentState(ctx, m, c, k)
		switch {
		case err != nil:
			return nil, err
		case done:
			return &module.Plan{Action: module.NoOp, Comment: comment}, nil
		case blocked:
			return &module.Plan{Fail: true, Comment: comment}, nil
		}
		return &module.Plan{Action: module.Delete, Changes: map[string]any{k.noun: change(c.Name, nil)},
			Comment: fmt.Sprintf("%s %s would be removed", capitalise(k.noun), c.Name), Private: encodePrivate(resPrivate{})}, nil
	}
}

func applyResAbsent(k *resKind) func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	return func(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
		s, comment, done, blocked, err := absentState(ctx, m, c, k)
		switch {
		case err != nil:
			return nil, err
		case done:
			return &module.Outcome{Comment: comment}, nil
		case blocked:
			return &module.Outcome{Failed: true, Comment: comment}, nil
		}
		if err := k.remove(s, c.Name); err != nil {
			if isNotFound(err) {
				return &module.Outcome{Comment: fmt.Sprintf("%s %s is already absent", capitalise(k.noun), c.Name)}, nil
			}
			return nil, fmt.Errorf("failed to remove %s %s: %w", k.noun, c.Name, err)
		}
		return &module.Outcome{Changes: map[string]any{k.noun: change(c.Name, nil)},
			Comment: fmt.Sprintf("%s %s removed", capitalise(k.noun), c.Name)}, nil
	}
}
